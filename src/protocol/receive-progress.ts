import { Opcode } from './opcode.js';
import { utf8Step, UTF8_REJECT } from './utf8.js';

/**
 * What one connection's receiver keeps between reads (see receiver.ts): only
 * while a frame or a fragmented message is incomplete, and recycled as soon
 * as it completes, so an idle connection holds none.
 */

/** `frameUtf8` of a frame that is not text (or whose header is not known yet). */
export const NOT_TEXT = -2;

/** A connection's incomplete frame and/or fragmented message. Exists only while something is incomplete. */
export class ReceiveProgress {
  /**
   * An incomplete frame: the bytes of its header while that is incomplete,
   * then its payload alone from the start, unmasked as it arrives (the header
   * is kept decoded in the fields below).
   */
  frame: Buffer | null = null;
  /** Bytes in `frame`: of the header until it is whole, then of the payload. */
  frameLength = 0;
  /** 0 until the header is whole. */
  frameHeaderLength = 0;
  /** The payload length the header claims. */
  frameTotalLength = 0;
  frameFin = false;
  frameOpcode = 0;
  frameRsv = 0;
  frameMasked = false;
  /** The masking key's bits as an int32 (a Smi: storing a uint32 over 2^31 would allocate a number). */
  frameMaskKey = 0;
  /** The unmasked payloads of the fragments so far. */
  message: Buffer | null = null;
  /** Text or Binary while a fragmented message is open, else 0 (Continuation is never a message opcode). */
  messageOpcode = 0;
  messageLength = 0;
  messageFragments = 0;
  /** The message's first frame had RSV1 set (RFC 7692 §6): its text is checked once inflated. */
  messageCompressed = false;
  utf8State = 0;
  /**
   * UTF-8 state over the incomplete frame's payload received so far, when it
   * is text (a Text frame, or a Continuation of a text message): checked as
   * each read arrives, so that bad text fails at once and not when the frame
   * completes (RFC 6455 §8.1 "fail fast"). NOT_TEXT otherwise.
   */
  frameUtf8 = NOT_TEXT;
  /**
   * When this incomplete frame or message began, in the caller's clock (the
   * reactor's wheel ticks); 0 until the caller stamps it. The receiver only
   * clears it: it keeps no time itself.
   */
  startedAt = 0;
  /** When the peer was last heard from while this was in progress (caller's clock). */
  heardAt = 0;
  /** When the caller stopped reading this peer (caller's clock), while it has; 0 while it reads. */
  pausedAt = 0;
}

/** Spares kept for reuse, up to a bound: enough for bursts, not a leak after one. */
const spareProgress: ReceiveProgress[] = [];
const MAX_SPARE_PROGRESS = 1024;

/** A cleared progress object, a spare one when there is one: connections start and finish frames all the time. */
export function acquireProgress(): ReceiveProgress {
  return spareProgress.pop() ?? new ReceiveProgress();
}

/** Clears `progress` (it holds no buffer any more) and keeps it as a spare. */
export function recycleProgress(progress: ReceiveProgress): void {
  progress.frame = null;
  progress.message = null;
  progress.frameLength = progress.frameHeaderLength = progress.frameTotalLength = 0;
  progress.frameFin = false;
  progress.frameOpcode = progress.frameRsv = 0;
  progress.frameMasked = false;
  progress.frameMaskKey = 0;
  progress.messageOpcode = progress.messageLength = progress.messageFragments = progress.utf8State = 0;
  progress.messageCompressed = false;
  progress.frameUtf8 = NOT_TEXT;
  progress.startedAt = progress.heardAt = progress.pausedAt = 0;
  if (spareProgress.length < MAX_SPARE_PROGRESS) spareProgress.push(progress);
}

/**
 * Where UTF-8 checking starts for a frame with `opcode`: 0 for Text, the
 * message's state for its continuation; compressed text is checked once inflated.
 */
export function textStateAtStart(progress: ReceiveProgress, opcode: number, rsv: number): number {
  if (opcode === Opcode.Text) return rsv === 0 ? 0 : NOT_TEXT;
  return opcode === Opcode.Continuation && progress.messageOpcode === Opcode.Text && !progress.messageCompressed
    ? progress.utf8State
    : NOT_TEXT;
}

/** Checks newly unmasked text bytes of the incomplete frame; false once they cannot be UTF-8. */
export function checkFrameText(progress: ReceiveProgress, frame: Buffer, from: number, to: number): boolean {
  if (progress.frameUtf8 === NOT_TEXT || from === to) return true;
  progress.frameUtf8 = utf8Step(progress.frameUtf8, frame, from, to);
  return progress.frameUtf8 !== UTF8_REJECT;
}
