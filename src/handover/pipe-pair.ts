import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipeChannel, type PipeBindings, type RawPipe } from './pipe-channel.js';

/** Set in the new process's environment: the descriptor of its end of the handover pipe. */
export const HANDOVER_FD_ENV = 'LIGHTWS_HANDOVER_FD';
/** Where the new process finds it: the first descriptor after stdin, stdout, stderr and Node's IPC channel. */
export const HANDOVER_FD = 4;
/**
 * Internal switch: `LIGHTWS_HANDOVER_CHANNEL=node` in the old process's
 * environment makes no pipe, so connections take Node's channel as where
 * `pipe_wrap` is missing (the tests use it to cover that path).
 */
export const HANDOVER_CHANNEL_ENV = 'LIGHTWS_HANDOVER_CHANNEL';

let cached: PipeBindings | null | undefined;

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access -- process.binding() is untyped: checked below */
/** Node's `pipe_wrap` and `stream_wrap`, as the handle transport reaches `tcp_wrap` (raw-bindings.ts); null where absent. */
export function pipeBindings(): PipeBindings | null {
  if (cached !== undefined) return cached;
  const binding = (process as unknown as { binding?: (name: string) => Record<string, any> }).binding;
  cached = null;
  if (typeof binding !== 'function') return cached;
  const saved = process.noDeprecation;
  process.noDeprecation = true; // DEP0111 under pending deprecations
  try {
    const { Pipe, PipeConnectWrap, constants } = binding('pipe_wrap');
    const { WriteWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = binding('stream_wrap');
    const ok =
      typeof Pipe === 'function' &&
      typeof PipeConnectWrap === 'function' &&
      typeof WriteWrap === 'function' &&
      typeof constants?.IPC === 'number' &&
      typeof constants?.SERVER === 'number' &&
      typeof constants?.SOCKET === 'number' &&
      streamBaseState instanceof Int32Array &&
      typeof kReadBytesOrError === 'number' &&
      typeof kLastWriteWasAsync === 'number' &&
      typeof Pipe.prototype.writeUtf8String === 'function' &&
      typeof Pipe.prototype.open === 'function';
    if (ok)
      cached = {
        Pipe,
        PipeConnectWrap,
        WriteWrap,
        SOCKET: constants.SOCKET,
        SERVER: constants.SERVER,
        IPC: constants.IPC,
        streamBaseState,
        kReadBytesOrError,
        kLastWriteWasAsync,
      };
  } catch {
    // not available: the handover goes over Node's own channel
  } finally {
    process.noDeprecation = saved;
  }
  return cached;
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access */

/** Our end of a handover pipe, and the other end to give a new process as its descriptor HANDOVER_FD. */
export interface PipePair {
  channel: PipeChannel;
  /** The other end: as fork's stdio entry (a Socket over it), or as a raw handle to send over IPC (cluster). */
  give: RawPipe;
}

let made = 0;

/**
 * A connected pair of IPC pipes, with no native code: a Unix socket that
 * lives only while the pair connects. Our end connects (a pipe made with
 * ipc=true, so it can carry descriptors); the accepted end is not IPC in
 * this process and is never read here: it goes to the new process, which
 * opens its inherited copy as an IPC pipe (openInheritedChannel). Null when
 * the bindings are missing, the socket cannot be made, or HANDOVER_CHANNEL_ENV
 * says so: the handover then takes Node's channel.
 */
export async function makePipePair(): Promise<PipePair | null> {
  const raw = process.env[HANDOVER_CHANNEL_ENV] === 'node' ? null : pipeBindings();
  if (raw === null) return null;
  const suffix = `lightws-handover-${process.pid}-${++made}-${randomBytes(4).toString('hex')}`;
  // Linux's abstract namespace leaves nothing on disk; elsewhere a socket file, removed at once.
  const abstract = process.platform === 'linux';
  const name = abstract ? `\0${suffix}` : join(tmpdir(), `${suffix}.sock`);
  const server = new raw.Pipe(raw.SERVER);
  try {
    if (server.bind(name) !== 0 || server.listen(1) !== 0) return null;
    const ours = new raw.Pipe(raw.IPC);
    const accepted = new Promise<RawPipe | undefined>((resolve) => {
      server.onconnection = (status, client) => resolve(status === 0 ? client : undefined);
    });
    const connected = new Promise<number>((resolve) => {
      const req = new raw.PipeConnectWrap();
      req.oncomplete = resolve;
      const error = ours.connect(req, name);
      if (error !== 0) resolve(error);
    });
    if ((await connected) !== 0) {
      ours.close();
      return null;
    }
    // Connected: the server has it queued, and accepts it on this turn of the loop.
    const theirs = await accepted;
    if (theirs === undefined) {
      ours.close();
      return null;
    }
    return { channel: new PipeChannel(ours, raw), give: theirs };
  } finally {
    server.close();
    if (!abstract) rmSync(name, { force: true });
  }
}

/** The stdio entry that gives `pipe` to a child as a descriptor (fork duplicates it; close ours after). */
export function stdioOf(pipe: RawPipe): Socket {
  // `handle` is net.Socket's own (undocumented) option for wrapping an existing libuv handle.
  return new Socket({ handle: pipe, readable: false, writable: false } as ConstructorParameters<typeof Socket>[0]);
}

/** In the new process: its end of the handover pipe, when the old one gave it one. */
export function openInheritedChannel(): PipeChannel | null {
  const fd = process.env[HANDOVER_FD_ENV];
  if (fd === undefined) return null;
  delete process.env[HANDOVER_FD_ENV];
  const raw = pipeBindings();
  if (raw === null) return null;
  const pipe = new raw.Pipe(raw.IPC);
  if (pipe.open(Number(fd)) !== 0) {
    pipe.close();
    return null;
  }
  return new PipeChannel(pipe, raw);
}
