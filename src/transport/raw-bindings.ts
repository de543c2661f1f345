/**
 * Node's built-in libuv bindings (`tcp_wrap`, `stream_wrap`), reached through
 * `process.binding`. They are not a native addon: they ship inside every
 * Node binary. They are also not a public API, so everything is
 * feature-detected here, once, and the `handle` transport is used only when
 * every piece it needs is present.
 */

/** A libuv TCP handle as `tcp_wrap` exposes it (the subset we use). */
export interface RawTcpHandle {
  /** `flags`: UV_TCP_REUSEPORT where Node passes it on (see server-handle.ts); Node 20 ignores it. */
  bind(address: string, port: number, flags?: number): number;
  bind6(address: string, port: number, flags: number): number;
  listen(backlog: number): number;
  getsockname(out: Record<string, unknown>): number;
  getpeername(out: Record<string, unknown>): number;
  setNoDelay(enable: boolean): number;
  setKeepAlive(enable: boolean, delaySeconds: number): number;
  useUserBuffer(buf: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  connect(req: RawConnectReq, address: string, port: number): number;
  connect6(req: RawConnectReq, address: string, port: number): number;
  /**
   * 0 or a negative libuv error when `req` is ours; Node 24.22+ may also
   * answer with a request object it made (when the write went async).
   */
  writeBuffer(req: RawWriteReq | null, buf: Uint8Array): number | RawWriteReq;
  writeLatin1String(req: RawWriteReq, text: string): number;
  shutdown(req: RawShutdownReq): number;
  close(callback?: () => void): void;
  ref(): void;
  unref(): void;
  readonly writeQueueSize: number;
  readonly fd: number;
  onread: (this: RawTcpHandle, arrayBuffer: ArrayBuffer | undefined) => void;
  onconnection: (this: RawTcpHandle, err: number, client: RawTcpHandle | undefined) => void;
}

export interface RawWriteReq {
  handle: RawTcpHandle | null;
  oncomplete: (this: RawWriteReq, status: number, handle: RawTcpHandle) => void;
  async: boolean;
  /**
   * The bytes of a write in flight, when nothing else holds them: libuv writes from their memory
   * after writeBuffer returns, and only the request (kept alive by the native side until its
   * oncomplete) keeps a Buffer from being collected meanwhile (what net's `req.buffer` is for).
   */
  buffer?: Uint8Array | null;
}

export interface RawConnectReq {
  oncomplete: (this: RawConnectReq, status: number, handle: RawTcpHandle) => void;
}

export interface RawShutdownReq {
  handle: RawTcpHandle | null;
  oncomplete: (this: RawShutdownReq, status: number) => void;
}

export interface RawBindings {
  readonly TCP: new (type: number) => RawTcpHandle;
  readonly WriteWrap: new () => RawWriteReq;
  readonly ShutdownWrap: new () => RawShutdownReq;
  readonly TCPConnectWrap: new () => RawConnectReq;
  readonly SERVER: number;
  readonly SOCKET: number;
  /** libuv's UV_TCP_REUSEPORT bind flag, where tcp_wrap exposes it (Node 22.12+, 23.1+). */
  readonly REUSEPORT: number | undefined;
  /** Shared Int32Array through which stream_wrap reports a read's length and a write's result. */
  readonly streamBaseState: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kLastWriteWasAsync: number;
}

export type BindingsResult = { ok: true; bindings: RawBindings } | { ok: false; reason: string };

/** Pending deprecations turn process.binding into DEP0111, fatal under --throw-deprecation. */
export function pendingDeprecationEnabled(): boolean {
  const flag = '--pending-deprecation';
  return (
    process.execArgv.includes(flag) ||
    (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(flag) ||
    process.env.NODE_PENDING_DEPRECATION === '1'
  );
}

const HANDLE_METHODS = [
  'bind',
  'bind6',
  'listen',
  'connect',
  'connect6',
  'getsockname',
  'getpeername',
  'setNoDelay',
  'setKeepAlive',
  'useUserBuffer',
  'readStart',
  'readStop',
  'writeBuffer',
  'writeLatin1String',
  'shutdown',
  'close',
  'ref',
  'unref',
] as const;

let cached: BindingsResult | undefined;

/** Loads and checks the bindings; the reason says exactly what was missing. */
export function loadRawBindings(): BindingsResult {
  return (cached ??= load());
}

/** The bindings, or an Error saying what is missing (for callers that already chose 'handle'). */
export function requireRawBindings(): RawBindings {
  const loaded = loadRawBindings();
  if (!loaded.ok) throw new Error(`raw handles unavailable: ${loaded.reason}`);
  return loaded.bindings;
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument -- process.binding() is untyped: checkRawBindings is what checks the shape of what it returns */
function load(): BindingsResult {
  const binding = (process as unknown as { binding?: (name: string) => Record<string, any> }).binding;
  if (typeof binding !== 'function') return { ok: false, reason: 'process.binding is not available in this runtime' };
  let tcpWrap: Record<string, any>;
  let streamWrap: Record<string, any>;
  // process.binding warns (DEP0111) only under pending deprecations; silence it
  // for the two lookups so an explicit transport: 'handle' never prints it.
  const saved = process.noDeprecation;
  process.noDeprecation = true;
  try {
    tcpWrap = binding('tcp_wrap');
    streamWrap = binding('stream_wrap');
  } catch (error) {
    return { ok: false, reason: `process.binding refused: ${(error as Error).message}` };
  } finally {
    process.noDeprecation = saved;
  }
  return checkRawBindings(tcpWrap, streamWrap);
}

const isFunction = (value: unknown): boolean => typeof value === 'function';
const isNumber = (value: unknown): boolean => typeof value === 'number';

/**
 * Checks every internal the handle transport relies on, at start-up rather
 * than at the first connection, so that a Node version that changed one
 * falls back to the socket transport with a warning naming what is missing.
 * Beyond the names, it makes one unconnected handle and one write request
 * and checks the fields that are only visible on instances (writeQueueSize,
 * fd, onread; a write request's handle, oncomplete and async slots).
 */
export function checkRawBindings(tcpWrap: Record<string, any>, streamWrap: Record<string, any>): BindingsResult {
  const { TCP, TCPConnectWrap, constants } = tcpWrap;
  const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = streamWrap;
  const missing: string[] = [];
  const need = (ok: boolean, name: string): void => {
    if (!ok) missing.push(name);
  };
  need(isFunction(TCP), 'tcp_wrap.TCP');
  need(isFunction(TCPConnectWrap), 'tcp_wrap.TCPConnectWrap');
  need(isNumber(constants?.SERVER), 'tcp_wrap.constants.SERVER');
  need(isNumber(constants?.SOCKET), 'tcp_wrap.constants.SOCKET');
  need(isFunction(WriteWrap), 'stream_wrap.WriteWrap');
  need(isFunction(ShutdownWrap), 'stream_wrap.ShutdownWrap');
  need(streamBaseState instanceof Int32Array, 'stream_wrap.streamBaseState');
  need(isNumber(kReadBytesOrError), 'stream_wrap.kReadBytesOrError');
  need(isNumber(kLastWriteWasAsync), 'stream_wrap.kLastWriteWasAsync');
  if (isFunction(TCP)) {
    for (const name of HANDLE_METHODS) need(isFunction(TCP.prototype?.[name]), `TCP.prototype.${name}`);
  }
  if (missing.length === 0) missing.push(...probeInstances(TCP, WriteWrap, constants.SOCKET));
  if (missing.length > 0) return { ok: false, reason: `Node's internals lack ${missing.join(', ')}` };
  return {
    ok: true,
    bindings: {
      TCP,
      TCPConnectWrap,
      WriteWrap,
      ShutdownWrap,
      SERVER: constants.SERVER,
      SOCKET: constants.SOCKET,
      REUSEPORT: isNumber(constants.UV_TCP_REUSEPORT) ? constants.UV_TCP_REUSEPORT : undefined,
      streamBaseState,
      kReadBytesOrError,
      kLastWriteWasAsync,
    },
  };
}
/* eslint-enable */

/** What only an instance shows: a handle's accessors, a write request's slots. */
function probeInstances(
  TCP: new (type: number) => RawTcpHandle,
  WriteWrap: new () => RawWriteReq,
  socketType: number,
): string[] {
  const missing: string[] = [];
  let handle: RawTcpHandle | undefined;
  try {
    handle = new TCP(socketType);
    if (typeof handle.writeQueueSize !== 'number') missing.push('TCP handle.writeQueueSize');
    if (typeof handle.fd !== 'number') missing.push('TCP handle.fd');
    const onread = function onread(): void {};
    handle.onread = onread;
    if (handle.onread !== onread) missing.push('TCP handle.onread');
  } catch (error) {
    missing.push(`a TCP handle (${(error as Error).message})`);
  } finally {
    handle?.close();
  }
  try {
    const req = new WriteWrap();
    const oncomplete = (): void => {};
    req.oncomplete = oncomplete;
    req.handle = null;
    req.async = false;
    if (req.oncomplete !== oncomplete || req.async !== false) missing.push('WriteWrap slots');
  } catch (error) {
    missing.push(`a WriteWrap (${(error as Error).message})`);
  }
  return missing;
}
