/**
 * The reference model: a second, deliberately plain implementation of the
 * receiving side of RFC 6455, written without the server's code. It decodes
 * the bytes the client sends and predicts every reply (echoes, pongs) and how
 * the connection must end.
 */
import { FREE_FRAGMENTS, LIMITS, type Limits } from './limits.js';

export interface Reply {
  opcode: number;
  payload: Buffer;
}

export type ModelEnd =
  /** A valid Close arrived: the server echoes its code (1005: an empty Close). */
  | { kind: 'close'; code: number }
  /** The first violation: the server must fail the connection with one of `codes`. */
  | { kind: 'violation'; codes: number[]; rules: string[] }
  /**
   * Neither: the server waits for more. With a frame or a fragmented message
   * in progress the slow-message guard ends it (1008), else the idle timeout (1001).
   */
  | { kind: 'incomplete'; inProgress: boolean };

export interface ModelResult {
  replies: Reply[];
  end: ModelEnd;
  /** Frames the server parses: complete ones, plus the one that fails. */
  frames: number;
}

const UTF8_ACCEPT = 0;
const UTF8_FAIL = -1;

/**
 * Incremental UTF-8 check straight from Unicode Table 3-7 (well-formed byte
 * sequences). State: 0 when between characters, else (need << 16) | (lo << 8) | hi:
 * continuation bytes still needed and the range the next one must be in.
 */
export function utf8Scan(state: number, b: Uint8Array, start: number, end: number): number {
  let need = state >>> 16;
  let lo = (state >>> 8) & 0xff;
  let hi = state & 0xff;
  let i = start;
  while (i < end) {
    const c = b[i++]!;
    if (need === 0) {
      if (c < 0x80) continue;
      if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        lo = 0x80;
        hi = 0xbf;
      } else if (c === 0xe0) {
        need = 2;
        lo = 0xa0;
        hi = 0xbf;
      } else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) {
        need = 2;
        lo = 0x80;
        hi = 0xbf;
      } else if (c === 0xed) {
        need = 2;
        lo = 0x80;
        hi = 0x9f;
      } else if (c === 0xf0) {
        need = 3;
        lo = 0x90;
        hi = 0xbf;
      } else if (c >= 0xf1 && c <= 0xf3) {
        need = 3;
        lo = 0x80;
        hi = 0xbf;
      } else if (c === 0xf4) {
        need = 3;
        lo = 0x80;
        hi = 0x8f;
      } else return UTF8_FAIL;
    } else {
      if (c < lo || c > hi) return UTF8_FAIL;
      need--;
      lo = 0x80;
      hi = 0xbf;
    }
  }
  return need === 0 ? UTF8_ACCEPT : (need << 16) | (lo << 8) | hi;
}

export function isUtf8(b: Uint8Array): boolean {
  return utf8Scan(UTF8_ACCEPT, b, 0, b.length) === UTF8_ACCEPT;
}

/** Close codes that may be on the wire: RFC 6455 §7.4.1 plus the IANA registry (1012-1014), and 3000-4999. */
export function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * What a server with `limits` must do with the client bytes `s` (everything
 * after the upgrade request), whatever way they are split into reads.
 */
export function model(s: Uint8Array, limits: Limits = LIMITS): ModelResult {
  const replies: Reply[] = [];
  let frames = 0;
  let pos = 0;
  // The fragmented message in progress.
  let openOpcode = 0;
  let openParts: Buffer[] = [];
  let openLength = 0;
  let openFragments = 0;
  let openUtf8 = UTF8_ACCEPT;
  const violation = (codes: Set<number>, rules: string[]): ModelResult => ({
    replies,
    end: { kind: 'violation', codes: [...codes].sort(), rules },
    frames: frames + 1,
  });
  for (;;) {
    const avail = s.length - pos;
    if (avail < 2) return { replies, end: { kind: 'incomplete', inProgress: avail > 0 || openOpcode !== 0 }, frames };
    const b0 = s[pos]!;
    const b1 = s[pos + 1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv = (b0 >> 4) & 7;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const control = opcode >= 8;
    let codes: Set<number> | null = null;
    const rules: string[] = [];
    const add = (code: number, rule: string): void => {
      (codes ??= new Set()).add(code);
      rules.push(rule);
    };
    // Rules the first two bytes show (§5.1, §5.2, §5.5).
    if (rsv !== 0) add(1002, 'rsv');
    if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) add(1002, 'reserved-opcode');
    if (!masked) add(1002, 'unmasked');
    if (control && len7 > 125) add(1002, 'control-too-long');
    if (control && !fin) add(1002, 'control-fragmented');
    // The length (§5.2, and the server's maxMessageSize).
    const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    let length = len7;
    if (avail >= 2 + extra) {
      if (extra === 2) length = (s[pos + 2]! << 8) | s[pos + 3]!;
      else if (extra === 8) {
        const high = ((s[pos + 2]! << 24) | (s[pos + 3]! << 16) | (s[pos + 4]! << 8) | s[pos + 5]!) >>> 0;
        const low = ((s[pos + 6]! << 24) | (s[pos + 7]! << 16) | (s[pos + 8]! << 8) | s[pos + 9]!) >>> 0;
        if (high >= 0x80000000) {
          add(1002, 'length-msb');
          add(1009, 'length-msb');
        }
        length = high * 4294967296 + low;
      }
      if (length > limits.maxMessageSize) add(1009, 'frame-too-big');
    }
    const headerLength = 2 + extra + (masked ? 4 : 0);
    // Rules of the message sequence (§5.4), once the header is whole.
    if (avail >= headerLength && !control && opcode <= 2) {
      if (opcode === 0) {
        if (openOpcode === 0) add(1002, 'unexpected-continuation');
        else {
          if (openLength + length > limits.maxMessageSize) add(1009, 'message-too-big');
          const fragments = openFragments + 1;
          if (fragments > FREE_FRAGMENTS && (fragments - FREE_FRAGMENTS) * limits.minFragmentSize > openLength + length)
            add(1008, 'fragments-too-small');
        }
      } else if (openOpcode !== 0) add(1002, 'expected-continuation');
    }
    if (codes !== null) return violation(codes, rules);
    if (avail < headerLength || avail - headerLength < length) {
      // Text the server has already seen part of is checked as it arrives (§8.1 fail fast).
      const text = opcode === 1 || (opcode === 0 && openOpcode === 1);
      if (text && avail > headerLength) {
        const state = utf8Scan(
          opcode === 1 ? UTF8_ACCEPT : openUtf8,
          unmask(s, pos + headerLength, avail - headerLength),
          0,
          avail - headerLength,
        );
        if (state === UTF8_FAIL) return violation(new Set([1007]), ['invalid-utf8']);
      }
      return { replies, end: { kind: 'incomplete', inProgress: true }, frames };
    }
    // A whole frame: unmask it.
    const start = pos + headerLength;
    const payload = unmask(s, start, length);
    pos = start + length;
    // Rules of the payload (§8.1, §5.5.1).
    switch (opcode) {
      case 1:
      case 2:
        if (fin) {
          if (opcode === 1 && !isUtf8(payload)) return violation(new Set([1007]), ['invalid-utf8']);
          replies.push({ opcode, payload });
        } else {
          openOpcode = opcode;
          openParts = [payload];
          openLength = length;
          openFragments = 1;
          if (opcode === 1) {
            openUtf8 = utf8Scan(UTF8_ACCEPT, payload, 0, length);
            if (openUtf8 === UTF8_FAIL) return violation(new Set([1007]), ['invalid-utf8']);
          }
        }
        break;
      case 0:
        openParts.push(payload);
        openLength += length;
        openFragments++;
        if (openOpcode === 1) {
          openUtf8 = utf8Scan(openUtf8, payload, 0, length);
          if (openUtf8 === UTF8_FAIL || (fin && openUtf8 !== UTF8_ACCEPT))
            return violation(new Set([1007]), ['invalid-utf8']);
        }
        if (fin) {
          replies.push({ opcode: openOpcode, payload: Buffer.concat(openParts, openLength) });
          openOpcode = 0;
          openParts = [];
          openLength = 0;
          openFragments = 0;
        }
        break;
      case 8: {
        if (length === 1) return violation(new Set([1002]), ['close-1-byte']);
        if (length === 0) {
          frames++;
          return { replies, end: { kind: 'close', code: 1005 }, frames };
        }
        const code = payload.readUInt16BE(0);
        if (!validCloseCode(code)) return violation(new Set([1002]), ['close-code']);
        if (!isUtf8(payload.subarray(2))) return violation(new Set([1007]), ['close-reason-utf8']);
        frames++;
        return { replies, end: { kind: 'close', code }, frames };
      }
      case 9:
        replies.push({ opcode: 10, payload });
        break;
      default:
        break; // a Pong: nothing to answer
    }
    frames++;
  }
}

/**
 * A copy of `s[start..start+length)` XORed with the four key bytes before it,
 * word by word (a fresh Uint8Array is 8-byte aligned): deliberately not the
 * server's applyMask.
 */
function unmask(s: Uint8Array, start: number, length: number): Buffer {
  const k0 = s[start - 4]!;
  const k1 = s[start - 3]!;
  const k2 = s[start - 2]!;
  const k3 = s[start - 1]!;
  if (length < 256) {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++)
      out[i] = s[start + i]! ^ ((i & 3) === 0 ? k0 : (i & 3) === 1 ? k1 : (i & 3) === 2 ? k2 : k3);
    return out;
  }
  const bytes = new Uint8Array(length);
  bytes.set(s.subarray(start, start + length));
  const words = new Int32Array(bytes.buffer, 0, length >>> 2);
  // The key as the int32 whose memory bytes are k0 k1 k2 k3 (little-endian, like every platform Node runs on here).
  const key = k0 | (k1 << 8) | (k2 << 16) | (k3 << 24);
  for (let i = 0; i < words.length; i++) words[i]! ^= key;
  for (let i = length & ~3; i < length; i++)
    bytes[i]! ^= (i & 3) === 0 ? k0 : (i & 3) === 1 ? k1 : (i & 3) === 2 ? k2 : k3;
  return Buffer.from(bytes.buffer, 0, length);
}

/** Where the upgrade request ends (after CRLFCRLF) in `bytes`, or -1. */
export function headEnd(bytes: Buffer): number {
  const i = bytes.indexOf('\r\n\r\n', 0, 'latin1');
  return i < 0 ? -1 : i + 4;
}
