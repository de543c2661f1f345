/**
 * Node's built-in libuv bindings (`tcp_wrap`, `stream_wrap`), reached through
 * `process.binding`. They are not a native addon: they ship inside every
 * Node binary. They are also not a public API, so everything is
 * feature-detected here, once, and the `handle` transport is used only when
 * every piece it needs is present.
 */

/** A libuv TCP handle as `tcp_wrap` exposes it (the subset we use). */
export interface RawTcpHandle {
  bind(address: string, port: number): number;
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
  writeBuffer(req: RawWriteReq, buf: Uint8Array): number;
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
  'bind', 'bind6', 'listen', 'connect', 'connect6', 'getsockname', 'getpeername', 'setNoDelay', 'setKeepAlive',
  'useUserBuffer', 'readStart', 'readStop', 'writeBuffer', 'writeLatin1String', 'shutdown', 'close',
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
  const { TCP, TCPConnectWrap, constants } = tcpWrap;
  const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = streamWrap;
  if (typeof TCP !== 'function' || typeof TCPConnectWrap !== 'function' || typeof WriteWrap !== 'function' || typeof ShutdownWrap !== 'function') {
    return { ok: false, reason: 'tcp_wrap.TCP or TCPConnectWrap, stream_wrap.WriteWrap or ShutdownWrap is missing' };
  }
  if (!(streamBaseState instanceof Int32Array) || typeof kReadBytesOrError !== 'number' || typeof kLastWriteWasAsync !== 'number') {
    return { ok: false, reason: 'stream_wrap.streamBaseState is missing' };
  }
  if (typeof constants?.SERVER !== 'number' || typeof constants?.SOCKET !== 'number') {
    return { ok: false, reason: 'tcp_wrap.constants is missing' };
  }
  const missing = HANDLE_METHODS.filter((name) => typeof TCP.prototype[name] !== 'function');
  if (missing.length > 0) return { ok: false, reason: `TCP handles lack ${missing.join(', ')}` };
  return {
    ok: true,
    bindings: {
      TCP, TCPConnectWrap, WriteWrap, ShutdownWrap, SERVER: constants.SERVER, SOCKET: constants.SOCKET,
      streamBaseState, kReadBytesOrError, kLastWriteWasAsync,
    },
  };
}
