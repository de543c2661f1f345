import { EventEmitter } from 'node:events';
import type { Channel, HandoverMessage } from './channel.js';

/** A libuv pipe as `pipe_wrap` exposes it (the subset a handover uses). */
export interface RawPipe {
  open(fd: number): number;
  bind(name: string): number;
  listen(backlog: number): number;
  connect(req: object, name: string): number;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Uint8Array): void;
  writeUtf8String(req: RawPipeWrite, text: string, handle?: unknown): number | RawPipeWrite;
  close(callback?: () => void): void;
  ref(): void;
  unref(): void;
  onread: (this: RawPipe, arrayBuffer: ArrayBuffer | undefined) => void;
  onconnection: (status: number, client: RawPipe | undefined) => void;
  /** Set by Node before `onread` when the bytes read came with a descriptor (an IPC pipe only). */
  pendingHandle?: unknown;
}

export interface RawPipeWrite {
  oncomplete: (status: number) => void;
  /** Keeps the handle sent alive until the write is done (Node sets it too). */
  handle?: unknown;
}

export interface PipeBindings {
  readonly Pipe: new (type: number) => RawPipe;
  readonly PipeConnectWrap: new () => { oncomplete: (status: number) => void };
  readonly WriteWrap: new () => RawPipeWrite;
  readonly SOCKET: number;
  readonly SERVER: number;
  readonly IPC: number;
  readonly streamBaseState: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kLastWriteWasAsync: number;
}

const NEWLINE = 0x0a;
/** A message that carries a descriptor starts with this letter; one that does not, with `M`. */
const WITH_HANDLE = 'H';

/**
 * A {@link Channel} over an IPC pipe of our own (pipe-pair.ts), between the
 * old process and the new one directly. Node's child-process channel sends
 * one descriptor per message and holds every later message until the
 * receiver's internal NODE_HANDLE_ACK comes back: a round trip per
 * connection. Here each message is a line (`H` or `M`, then JSON) written
 * with its descriptor (libuv's uv_write2: SCM_RIGHTS on the first bytes of
 * that line) and nothing waits: many descriptors are in flight at once,
 * bounded by the sender's window (sender.ts).
 *
 * The kernel delivers a descriptor with the read that holds the first bytes
 * of its line, never later, and stops a read after each one (SCM_RIGHTS
 * messages are not coalesced), so Node hands us at most one per read, in
 * order: the descriptors received wait in a queue, and each `H` line, once
 * complete, takes the oldest. A descriptor still in flight belongs to the
 * sender, which keeps its own copy open until the receiver's acknowledgement
 * (sender.ts): if the receiver dies, the kernel closes the copies it had not
 * read, and the connections carry on in the sender.
 */
export class PipeChannel implements Channel {
  private readonly events = new EventEmitter();
  private readonly handles: unknown[] = [];
  private readonly buffer = Buffer.allocUnsafe(64 * 1024);
  private partial: Buffer[] = [];
  private open = true;
  readonly window = 512;

  constructor(
    private readonly pipe: RawPipe,
    private readonly raw: PipeBindings,
  ) {
    pipe.useUserBuffer(this.buffer);
    const state = raw.streamBaseState;
    const kRead = raw.kReadBytesOrError;
    // Must return undefined, whatever happens: anything else aborts the process.
    pipe.onread = (): void => {
      const nread = state[kRead]!;
      if (pipe.pendingHandle != null) {
        this.handles.push(pipe.pendingHandle);
        pipe.pendingHandle = null;
      }
      try {
        if (nread > 0) this.received(nread);
        else if (nread < 0) this.close();
      } catch {
        this.close();
      }
    };
    pipe.readStart();
  }

  get connected(): boolean {
    return this.open;
  }

  send(message: HandoverMessage, handle?: unknown, callback?: (error: Error | null) => void): boolean {
    if (!this.open) {
      if (callback !== undefined) queueMicrotask(() => callback(new Error('the handover pipe is closed')));
      return false;
    }
    const req = new this.raw.WriteWrap();
    const done = (status: number): void => {
      if (status < 0) this.close();
      callback?.(status < 0 ? new Error(`writing to the handover pipe failed (${status})`) : null);
    };
    req.oncomplete = done;
    if (handle != null) req.handle = handle;
    const text = `${handle != null ? WITH_HANDLE : 'M'}${JSON.stringify(message)}\n`;
    const result = this.pipe.writeUtf8String(req, text, handle ?? undefined);
    // Node 24.22+ may answer with a request object of its own making (nodejs/node#64455).
    if (typeof result === 'object' && result !== null) result.oncomplete = done;
    else if (result < 0) queueMicrotask(() => done(result));
    // Written in place (a short line without a descriptor): no oncomplete will come.
    else if (this.raw.streamBaseState[this.raw.kLastWriteWasAsync] === 0) queueMicrotask(() => done(0));
    return true;
  }

  on(event: 'message', listener: (message: HandoverMessage, handle: unknown) => void): this;
  on(event: 'disconnect' | 'exit', listener: () => void): this;
  on(event: string, listener: (...args: never[]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off(event: 'message', listener: (message: HandoverMessage, handle: unknown) => void): this;
  off(event: 'disconnect' | 'exit', listener: () => void): this;
  off(event: string, listener: (...args: never[]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Closes the pipe (the other end reads its end); descriptors received and not claimed are closed. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.pipe.readStop();
    this.pipe.close();
    for (const handle of this.handles.splice(0)) (handle as { close?: () => void }).close?.();
    this.events.emit('disconnect');
  }

  private received(nread: number): void {
    let start = 0;
    for (;;) {
      const end = this.buffer.indexOf(NEWLINE, start);
      if (end < 0 || end >= nread) break;
      const piece = this.buffer.subarray(start, end);
      const line = this.partial.length === 0 ? piece : Buffer.concat([...this.partial, piece]);
      this.partial = [];
      start = end + 1;
      this.deliver(line.toString('utf8'));
    }
    // Copied: the buffer is read into again.
    if (start < nread) this.partial.push(Buffer.from(this.buffer.subarray(start, nread)));
  }

  private deliver(line: string): void {
    const message = JSON.parse(line.slice(1)) as HandoverMessage;
    const handle = line.startsWith(WITH_HANDLE) ? this.handles.shift() : undefined;
    this.events.emit('message', message, handle);
  }
}
