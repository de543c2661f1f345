import { acquireProgress, type ReceiveProgress } from '../../protocol/receive-progress.js';
import type { BufferLender } from '../../protocol/receiver.js';
import type { ExtensionSnapshot } from '../extensions/extension.js';

/**
 * What travels beside an open connection's descriptor to the process that
 * adopts it (connection-handover.ts): every field a plain value, so the
 * whole snapshot goes through v8's structured clone. The descriptor carries
 * the rest: the socket options, and every byte the peer sent that was not
 * read yet (reading is stopped before the snapshot is taken, so those wait
 * in the kernel).
 */
export interface ConnectionSnapshot {
  /** SNAPSHOT_LAYOUT of the process that wrote it: a reload runs new code, which may read these fields otherwise. */
  layout: number;
  /** The connection's flags word: state bits, the extension's bits, the route index. */
  flags: number;
  /** Milliseconds until its timer-wheel deadline (heartbeat, slow-message check); 0 = none armed. */
  deadlineMs: number;
  /** `conn.data`, as is (structured clone) or as the `serialize` option made it. */
  data: unknown;
  topics: string[];
  protocol: string;
  /** The incomplete frame and/or fragmented message, when the last read left one. */
  progress: ProgressSnapshot | null;
  /**
   * What the negotiated extension holds for the connection (permessage-deflate
   * `window`: the agreed bits and the window the peer may refer back into); null when nothing.
   */
  extension: ExtensionSnapshot | null;
}

/**
 * The meaning of the fields below and of the flags word. A reload hands
 * connections from the old code to the new, so the two may differ: raise
 * this whenever a field, a flag bit or a buffer's layout changes (2: the
 * partial frame's buffer holds its payload alone, the header decoded
 * beside it; 3: `extension`, so permessage-deflate `window` connections
 * move). A snapshot of another layout is not guessed at: its
 * connection is closed with 1012 (connection-handover.ts).
 */
export const SNAPSHOT_LAYOUT = 3;

/** A ReceiveProgress with its buffers copied out and its clock readings made ages. */
export interface ProgressSnapshot {
  frame: Uint8Array | null;
  frameCapacity: number;
  frameLength: number;
  frameHeaderLength: number;
  frameTotalLength: number;
  frameFin: boolean;
  frameOpcode: number;
  frameRsv: number;
  frameMasked: boolean;
  frameMaskKey: number;
  message: Uint8Array | null;
  messageCapacity: number;
  messageOpcode: number;
  messageLength: number;
  messageFragments: number;
  messageCompressed: boolean;
  utf8State: number;
  frameUtf8: number;
  /** Ticks since the message began and since the peer was last heard (0 = not stamped). */
  startedAgo: number;
  heardAgo: number;
}

/** Copies `progress` out of the pool buffers it holds (which the caller then releases). */
export function snapshotProgress(progress: ReceiveProgress, now: number): ProgressSnapshot {
  const { frame, message } = progress;
  return {
    frame: frame === null ? null : Uint8Array.prototype.slice.call(frame, 0, progress.frameLength),
    frameCapacity: frame === null ? 0 : frame.length,
    frameLength: progress.frameLength,
    frameHeaderLength: progress.frameHeaderLength,
    frameTotalLength: progress.frameTotalLength,
    frameFin: progress.frameFin,
    frameOpcode: progress.frameOpcode,
    frameRsv: progress.frameRsv,
    frameMasked: progress.frameMasked,
    frameMaskKey: progress.frameMaskKey,
    message: message === null ? null : Uint8Array.prototype.slice.call(message, 0, progress.messageLength),
    messageCapacity: message === null ? 0 : message.length,
    messageOpcode: progress.messageOpcode,
    messageLength: progress.messageLength,
    messageFragments: progress.messageFragments,
    messageCompressed: progress.messageCompressed,
    utf8State: progress.utf8State,
    frameUtf8: progress.frameUtf8,
    startedAgo: progress.startedAt === 0 ? -1 : now - progress.startedAt,
    heardAgo: progress.heardAt === 0 ? -1 : now - progress.heardAt,
  };
}

/**
 * The progress again, in buffers borrowed from this process's pool (as
 * large as they were, so the receiver goes on as if it never stopped);
 * null when the pool's budget refuses them.
 */
export function restoreProgress(
  saved: ProgressSnapshot,
  lender: Pick<BufferLender, 'tryBorrow' | 'release'>,
  now: number,
): ReceiveProgress | null {
  const frame = saved.frame === null ? null : lender.tryBorrow(Math.max(saved.frameCapacity, saved.frame.length));
  const message =
    saved.message === null ? null : lender.tryBorrow(Math.max(saved.messageCapacity, saved.message.length));
  if ((saved.frame !== null && frame === null) || (saved.message !== null && message === null)) {
    if (frame !== null) lender.release(frame);
    if (message !== null) lender.release(message);
    return null;
  }
  const progress = acquireProgress();
  if (frame !== null) frame.set(saved.frame!, 0);
  if (message !== null) message.set(saved.message!, 0);
  progress.frame = frame;
  progress.frameLength = saved.frameLength;
  progress.frameHeaderLength = saved.frameHeaderLength;
  progress.frameTotalLength = saved.frameTotalLength;
  progress.frameFin = saved.frameFin;
  progress.frameOpcode = saved.frameOpcode;
  progress.frameRsv = saved.frameRsv;
  progress.frameMasked = saved.frameMasked;
  progress.frameMaskKey = saved.frameMaskKey;
  progress.message = message;
  progress.messageOpcode = saved.messageOpcode;
  progress.messageLength = saved.messageLength;
  progress.messageFragments = saved.messageFragments;
  progress.messageCompressed = saved.messageCompressed;
  progress.utf8State = saved.utf8State;
  progress.frameUtf8 = saved.frameUtf8;
  progress.startedAt = saved.startedAgo < 0 ? 0 : Math.max(1, now - saved.startedAgo);
  progress.heardAt = saved.heardAgo < 0 ? 0 : Math.max(1, now - saved.heardAgo);
  return progress;
}
