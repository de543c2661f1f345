import { decodeClosePayload } from './close-payload.js';
import { createFrameHeader, decodeFrameHeader, HEADER_INCOMPLETE, type HeaderRules } from './frame-header.js';
import { applyMask } from './mask.js';
import { borrowPayload, type BufferLender, type MessageLender } from './payload-buffer.js';
import { Opcode } from './opcode.js';
import { checkSequence } from './frame-sequence.js';
import { ErrorKind, type ErrorKindValue } from './protocol-error.js';
import {
  acquireProgress,
  checkFrameText,
  NOT_TEXT,
  recycleProgress,
  textStateAtStart,
  type ReceiveProgress,
} from './receive-progress.js';
import { isValidUtf8, utf8Step, UTF8_REJECT } from './utf8.js';

/**
 * The receiving half of RFC 6455 for one connection: frames → messages.
 *
 * Complete frames are parsed where they lie (in the reactor's shared read
 * slab) and unmasked in place. Only an incomplete frame is copied out, into a
 * buffer lent by the pool, and the pieces of a fragmented message (§5.4) are
 * gathered into another; both go back as soon as they complete. An idle
 * connection therefore holds no buffer and no progress object at all.
 */

export interface ReceiverConfig extends HeaderRules {
  /**
   * Past the first FREE_FRAGMENTS, a message's fragments must average at
   * least this many payload bytes (0 = no rule). Every frame costs the same
   * fixed work whatever it carries, so this bounds the work per message to
   * O(its length) without refusing any reasonable fragmentation; see
   * docs/reliability.md.
   */
  readonly minFragmentSize: number;
  readonly lender: MessageLender;
}

export { FREE_FRAGMENTS } from './frame-sequence.js';
export type { BufferLender, MessageLender } from './payload-buffer.js';

/** What a receiving connection must hold. `receiving` turns false once the reactor stops reading it. */
export interface ReceiverState {
  readonly receiving: boolean;
  progress: ReceiveProgress | null;
}

/** Called for each complete message and control frame. `data` is only valid until the call returns. */
export interface ReceiverSink<C> {
  /**
   * A whole message. `compressed`: its first frame had RSV bits set, which
   * only a negotiated extension's may be (§5.2; permessage-deflate's RSV1,
   * RFC 7692 §6), so `data` is the extension's payload, not yet transformed
   * back (inflated) nor UTF-8 checked.
   */
  onMessage(conn: C, data: Buffer, isBinary: boolean, compressed: boolean): void;
  onPing(conn: C, data: Buffer): void;
  onPong(conn: C, data: Buffer): void;
  /** A valid Close frame arrived (§5.5.1). Nothing after it is read. */
  onClose(conn: C, code: number, reason: string): void;
  /** The peer broke a rule; the connection must be failed with the kind's close code (§7.1.7). */
  onError(conn: C, kind: ErrorKindValue): void;
}

// One scratch header for all connections: decoding is synchronous and its fields
// are copied to locals before any handler runs, so re-entry cannot clobber them.
const header = createFrameHeader();
/**
 * The payload of an empty Ping or Pong (a heartbeat's, each way): one view for all, where a
 * subarray per frame was ~100 B of garbage per heartbeat at a million connections.
 */
const NO_PAYLOAD = Buffer.alloc(0);

/** Feeds `buf[start..end)` (bytes just read) to the connection's receiver. */
export function receive<C extends ReceiverState>(
  conn: C,
  buf: Buffer,
  start: number,
  end: number,
  config: ReceiverConfig,
  sink: ReceiverSink<C>,
): void {
  let pos = start;
  const progress = conn.progress;
  if (progress !== null && progress.frame !== null) {
    pos = continueFrame(conn, progress, buf, pos, end, config, sink);
    if (pos < 0) return;
  }
  while (pos < end && conn.receiving) {
    const headerLength = decodeFrameHeader(buf, pos, end, header, config);
    if (headerLength < 0) return fail(conn, -headerLength as ErrorKindValue, config, sink);
    if (headerLength === HEADER_INCOMPLETE || end - pos - headerLength < header.payloadLength) {
      startFrame(conn, buf, pos, end, headerLength, config, sink);
      return;
    }
    const fin = header.fin;
    const opcode = header.opcode;
    const rsv = header.rsv;
    const payloadStart = pos + headerLength;
    const payloadEnd = payloadStart + header.payloadLength;
    const error = checkSequence(conn.progress, opcode, rsv, header.payloadLength, config);
    if (error !== 0) return fail(conn, error, config, sink);
    if (header.masked) applyMask(buf, payloadStart, payloadEnd, header.maskKey, 0);
    pos = payloadEnd;
    if (!actOnFrame(conn, fin, opcode, rsv, buf, payloadStart, payloadEnd, config, sink, NOT_TEXT)) return;
  }
}

/** Returns every borrowed buffer of a connection that is going away. */
export function releaseProgress(conn: ReceiverState, lender: BufferLender): void {
  const progress = conn.progress;
  if (progress === null) return;
  conn.progress = null;
  if (progress.frame !== null) lender.release(progress.frame);
  if (progress.message !== null) lender.release(progress.message);
  recycleProgress(progress);
}

/** Copies out the start of a frame that the read did not complete. */
function startFrame<C extends ReceiverState>(
  conn: C,
  buf: Buffer,
  pos: number,
  end: number,
  headerLength: number,
  config: ReceiverConfig,
  sink: ReceiverSink<C>,
): void {
  if (headerLength === HEADER_INCOMPLETE) {
    // Only header bytes (fewer than 14): held in the frame buffer until the header is whole.
    const frame = config.lender.tryBorrow(end - pos);
    if (frame === null) return fail(conn, ErrorKind.MemoryBudgetExceeded, config, sink);
    buf.copy(frame, 0, pos, end);
    const progress = conn.progress ?? (conn.progress = acquireProgress());
    progress.frame = frame;
    progress.frameLength = end - pos;
    progress.frameHeaderLength = progress.frameTotalLength = 0;
    return;
  }
  const error = checkSequence(conn.progress, header.opcode, header.rsv, header.payloadLength, config);
  if (error !== 0) return fail(conn, error, config, sink);
  const start = pos + headerLength;
  const received = end - start;
  const frame = borrowPayload(config.lender, null, 0, header.payloadLength, received);
  if (frame === null) return fail(conn, ErrorKind.MemoryBudgetExceeded, config, sink);
  buf.copy(frame, 0, start, end);
  const progress = conn.progress ?? (conn.progress = acquireProgress());
  progress.frame = frame;
  progress.frameLength = received;
  keepHeader(progress, headerLength);
  if (header.masked) applyMask(frame, 0, received, header.maskKey, 0);
  if (!checkFrameText(progress, frame, 0, received)) fail(conn, ErrorKind.InvalidUtf8, config, sink);
}

/** The decoded header of the incomplete frame, kept beside its payload. */
function keepHeader(progress: ReceiveProgress, headerLength: number): void {
  progress.frameHeaderLength = headerLength;
  progress.frameTotalLength = header.payloadLength;
  progress.frameFin = header.fin;
  progress.frameOpcode = header.opcode;
  progress.frameRsv = header.rsv;
  progress.frameMasked = header.masked;
  progress.frameMaskKey = header.maskKey | 0;
  progress.frameUtf8 = textStateAtStart(progress, header.opcode, header.rsv);
}

/**
 * Adds newly read bytes to the incomplete frame. Returns where the next frame
 * starts in `buf`, or -1 when everything was consumed or the connection failed.
 */
function continueFrame<C extends ReceiverState>(
  conn: C,
  progress: ReceiveProgress,
  buf: Buffer,
  pos: number,
  end: number,
  config: ReceiverConfig,
  sink: ReceiverSink<C>,
): number {
  let frame = progress.frame!;
  // Header first, a few bytes at a time: copying more could swallow the next frame.
  while (progress.frameHeaderLength === 0) {
    const headerLength = decodeFrameHeader(frame, 0, progress.frameLength, header, config);
    if (headerLength < 0) return failed(conn, -headerLength as ErrorKindValue, config, sink);
    if (headerLength !== HEADER_INCOMPLETE) {
      const error = checkSequence(progress, header.opcode, header.rsv, header.payloadLength, config);
      if (error !== 0) return failed(conn, error, config, sink);
      keepHeader(progress, headerLength);
      progress.frameLength = 0; // the payload now fills the buffer from its start
      break;
    }
    if (pos === end) return -1;
    const take = Math.min(header.headerLength - progress.frameLength, end - pos);
    buf.copy(frame, progress.frameLength, pos, pos + take);
    progress.frameLength += take;
    pos += take;
  }
  const total = progress.frameTotalLength;
  const used = progress.frameLength;
  const take = Math.min(total - used, end - pos);
  if (used + take > frame.length) {
    const grown = borrowPayload(config.lender, frame, used, total, used + take);
    if (grown === null) return failed(conn, ErrorKind.MemoryBudgetExceeded, config, sink);
    frame = progress.frame = grown;
  }
  buf.copy(frame, used, pos, pos + take);
  pos += take;
  // Unmask as the bytes arrive: payload byte i goes with key byte i & 3.
  if (progress.frameMasked) applyMask(frame, used, used + take, progress.frameMaskKey, used & 3);
  if (!checkFrameText(progress, frame, used, used + take)) return failed(conn, ErrorKind.InvalidUtf8, config, sink);
  progress.frameLength = used + take;
  if (used + take < total) return -1;

  const checked = progress.frameUtf8;
  progress.frame = null;
  progress.frameUtf8 = NOT_TEXT;
  const { frameFin: fin, frameOpcode: opcode, frameRsv: rsv } = progress;
  let ok: boolean;
  if (fin && (opcode === Opcode.Text || opcode === Opcode.Binary)) {
    // A whole message in its own buffer: handed to the handler, which may send it back without a copy.
    const lender = config.lender;
    lender.handOut(frame);
    try {
      ok = actOnFrame(conn, fin, opcode, rsv, frame, 0, total, config, sink, checked);
    } finally {
      lender.handBack(frame);
    }
  } else {
    ok = actOnFrame(conn, fin, opcode, rsv, frame, 0, total, config, sink, checked);
    config.lender.release(frame);
  }
  if (!ok) return -1;
  if (progress.messageOpcode === 0 && conn.progress === progress) {
    conn.progress = null;
    recycleProgress(progress);
  }
  return pos;
}

/**
 * Acts on one complete, unmasked frame. Returns false when reading must stop.
 * `utf8`: the UTF-8 state after the payload when it was already checked as it
 * arrived (a frame that came in pieces), else NOT_TEXT and it is checked here.
 */
function actOnFrame<C extends ReceiverState>(
  conn: C,
  fin: boolean,
  opcode: number,
  rsv: number,
  buf: Buffer,
  start: number,
  end: number,
  config: ReceiverConfig,
  sink: ReceiverSink<C>,
  utf8: number,
): boolean {
  switch (opcode) {
    case Opcode.Text:
    case Opcode.Binary:
      if (fin) {
        const compressed = rsv !== 0;
        if (opcode === Opcode.Text && !compressed && (utf8 === NOT_TEXT ? !isValidUtf8(buf, start, end) : utf8 !== 0))
          return reject(conn, ErrorKind.InvalidUtf8, config, sink);
        sink.onMessage(conn, buf.subarray(start, end), opcode === Opcode.Binary, compressed);
        return conn.receiving;
      }
      return beginMessage(conn, opcode, rsv !== 0, buf, start, end, config, sink, utf8);
    case Opcode.Continuation:
      return continueMessage(conn, conn.progress!, fin, buf, start, end, config, sink, utf8);
    case Opcode.Close: {
      const close = decodeClosePayload(buf, start, end);
      if (typeof close === 'number') return reject(conn, -close as ErrorKindValue, config, sink);
      releaseProgress(conn, config.lender);
      sink.onClose(conn, close.code, close.reason);
      return false;
    }
    case Opcode.Ping:
      sink.onPing(conn, start === end ? NO_PAYLOAD : buf.subarray(start, end));
      return conn.receiving;
    default: // Pong: the header decoder admits no other opcode
      sink.onPong(conn, start === end ? NO_PAYLOAD : buf.subarray(start, end));
      return conn.receiving;
  }
}

function beginMessage<C extends ReceiverState>(
  conn: C,
  opcode: number,
  compressed: boolean,
  buf: Buffer,
  start: number,
  end: number,
  config: ReceiverConfig,
  sink: ReceiverSink<C>,
  utf8: number,
): boolean {
  const length = end - start;
  const message = config.lender.tryBorrow(length);
  if (message === null) return reject(conn, ErrorKind.MemoryBudgetExceeded, config, sink);
  buf.copy(message, 0, start, end);
  const progress = conn.progress ?? (conn.progress = acquireProgress());
  progress.message = message;
  progress.messageOpcode = opcode;
  progress.messageLength = length;
  progress.messageFragments = 1;
  progress.messageCompressed = compressed;
  if (opcode === Opcode.Text && !compressed) {
    // Validate as fragments arrive, so bad text fails before the rest is buffered.
    progress.utf8State = utf8 === NOT_TEXT ? utf8Step(0, buf, start, end) : utf8;
    if (progress.utf8State === UTF8_REJECT) return reject(conn, ErrorKind.InvalidUtf8, config, sink);
  }
  return true;
}

function continueMessage<C extends ReceiverState>(
  conn: C,
  progress: ReceiveProgress,
  fin: boolean,
  buf: Buffer,
  start: number,
  end: number,
  config: ReceiverConfig,
  sink: ReceiverSink<C>,
  utf8: number,
): boolean {
  const length = end - start;
  let message = progress.message!;
  const used = progress.messageLength;
  if (used + length > message.length) {
    const grown = config.lender.tryGrow(
      message,
      used,
      Math.min(config.maxPayloadLength, Math.max(2 * message.length, used + length)),
    );
    if (grown === null) return reject(conn, ErrorKind.MemoryBudgetExceeded, config, sink);
    message = progress.message = grown;
  }
  buf.copy(message, used, start, end);
  progress.messageLength = used + length;
  progress.messageFragments++;
  const isText = progress.messageOpcode === Opcode.Text;
  const compressed = progress.messageCompressed;
  if (isText && !compressed) {
    progress.utf8State = utf8 === NOT_TEXT ? utf8Step(progress.utf8State, buf, start, end) : utf8;
    if (progress.utf8State === UTF8_REJECT || (fin && progress.utf8State !== 0)) {
      return reject(conn, ErrorKind.InvalidUtf8, config, sink);
    }
  }
  if (!fin) return true;
  progress.message = null;
  progress.messageOpcode = 0;
  progress.messageCompressed = false;
  if (progress.frame === null && conn.progress === progress) {
    conn.progress = null;
    recycleProgress(progress);
  }
  const lender = config.lender;
  lender.handOut(message);
  try {
    sink.onMessage(conn, message.subarray(0, used + length), !isText, compressed);
  } finally {
    lender.handBack(message);
  }
  return conn.receiving;
}

function fail<C extends ReceiverState>(
  conn: C,
  kind: ErrorKindValue,
  config: ReceiverConfig,
  sink: ReceiverSink<C>,
): void {
  releaseProgress(conn, config.lender);
  sink.onError(conn, kind);
}

/** `fail` for paths that return a position: -1, "stop here". */
function failed<C extends ReceiverState>(
  conn: C,
  kind: ErrorKindValue,
  config: ReceiverConfig,
  sink: ReceiverSink<C>,
): -1 {
  fail(conn, kind, config, sink);
  return -1;
}

/** `fail` for paths that return whether to go on reading. */
function reject<C extends ReceiverState>(
  conn: C,
  kind: ErrorKindValue,
  config: ReceiverConfig,
  sink: ReceiverSink<C>,
): false {
  fail(conn, kind, config, sink);
  return false;
}
