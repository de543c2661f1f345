/**
 * The fuzz harness shared by the CI test (fuzz.test.ts) and the long run
 * (long-run.ts): a seeded generator of handshakes and frame streams (valid,
 * mutated, random), a reference model of what the server must answer, a
 * client that delivers each case over loopback in its own chunking, and a
 * driver that runs many cases at once against an echo server in a child
 * process (fuzz-server.ts), checking the pool and the process between rounds.
 *
 * Every case is a pure function of (seed, profile, case index): a failure is
 * replayed alone with `long-run.js --seed S --profile P --case K`.
 *
 * The oracle is a second, deliberately plain implementation of the receiving
 * side of RFC 6455 (`model`), written without the server's code: it decodes
 * the bytes the client sends and predicts every reply (echoes, pongs) and how
 * the connection must end: the echo of the client's Close, the close code(s)
 * of the first violation, or "incomplete" (the server waits: idle timeout,
 * 1001). Where the RFC leaves the choice open (a frame that breaks several
 * rules at once) the model accepts the code of any of them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { applyMask } from '../../src/protocol/mask.js';

// ——— limits and server options ———

export interface Limits {
  maxMessageSize: number;
  maxFragments: number;
  maxHeaderSize: number;
}

export const LIMITS: Limits = { maxMessageSize: 64 * 1024, maxFragments: 16, maxHeaderSize: 8 * 1024 };

/**
 * The child's options: small limits so violations are cheap, short timeouts
 * so silent peers end quickly. The timeouts are still long enough that the
 * client's own event-loop lag (a loaded CI machine) cannot fire them while it
 * is delivering: the wheel turns once a second, so idle 5 s fires 4-5 s after
 * the last read.
 */
export const SERVER_OPTIONS = {
  ...LIMITS,
  handshakeTimeoutMs: 6000,
  idleTimeoutMs: 5000,
  closeTimeoutMs: 2000,
  // A frame or message still incomplete after the grace is failed (1008) at the first check: the
  // rate is far above anything a stalled peer reaches, so stalls end fast and deterministically.
  slowMessageTimeoutMs: 6000,
  minMessageRate: 1 << 20,
  maxConnections: 4096,
  maxMemoryBytes: 1 << 30,
};

/** Statuses a broken handshake may get (503 only if the server is over its limits, which the fuzzer never reaches). */
export const HTTP_REFUSALS: ReadonlySet<number> = new Set([400, 403, 405, 426, 431, 505]);

// ——— seeded randomness ———

/** mulberry32: small, fast, good enough for fuzzing; the same sequence for the same seed everywhere. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  u32(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  /** 0 .. n-1 */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** lo .. hi inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  weighted<T>(table: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of table) total += w;
    let x = this.float() * total;
    for (const [v, w] of table) {
      x -= w;
      if (x < 0) return v;
    }
    return table[table.length - 1]![0];
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** The seed of case `index` of a run: independent streams per case, so any case replays alone. */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9) ^ Math.imul(Math.floor(seed / 4294967296), 0x27d4eb2f)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// ——— payload pools ———

/** Random bytes and random valid UTF-8 text, generated once per run; payloads are slices of them. */
export interface Pools {
  bin: Buffer;
  text: Buffer;
}

const EDGE_CODEPOINTS = [0x0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xfffe, 0xffff, 0x10000, 0x10ffff, 0x1f600];

export function makePools(seed: number): Pools {
  const r = new Rng(caseSeed(seed, -1));
  const bin = r.bytes(256 * 1024);
  const parts: string[] = [];
  let length = 0;
  while (length < 256 * 1024) {
    let s = '';
    for (let i = 0; i < 256; i++) {
      const k = r.float();
      let cp: number;
      if (k < 0.03) cp = r.pick(EDGE_CODEPOINTS);
      else if (k < 0.55) cp = r.range(0x20, 0x7e);
      else if (k < 0.72) cp = r.range(0x80, 0x7ff);
      else if (k < 0.9) {
        cp = r.range(0x800, 0xffff - 0x800);
        if (cp >= 0xd800) cp += 0x800; // skip the surrogates
      } else cp = r.range(0x10000, 0x10ffff);
      s += String.fromCodePoint(cp);
    }
    parts.push(s);
    length += Buffer.byteLength(s);
  }
  return { bin, text: Buffer.from(parts.join(''), 'utf8') };
}

function binSlice(r: Rng, pools: Pools, n: number): Buffer {
  if (n <= pools.bin.length) {
    const start = r.int(pools.bin.length - n + 1);
    return pools.bin.subarray(start, start + n);
  }
  return r.bytes(n);
}

/** Valid UTF-8 of about `n` bytes (at most n + 3): a slice cut at character boundaries. */
function textSlice(r: Rng, pools: Pools, n: number): Buffer {
  const t = pools.text;
  let start = r.int(t.length - n - 8);
  while ((t[start]! & 0xc0) === 0x80) start++;
  let end = start + n;
  while (end < t.length && (t[end]! & 0xc0) === 0x80) end++;
  return t.subarray(start, end);
}

/** Valid UTF-8 of at most `max` bytes. */
function textUpTo(r: Rng, pools: Pools, max: number): Buffer {
  let s = textSlice(r, pools, Math.max(0, max - 3));
  while (s.length > max) s = s.subarray(0, s.length - 1);
  // The trim may have cut a character: drop the partial one.
  let end = s.length;
  let i = end - 1;
  while (i >= 0 && (s[i]! & 0xc0) === 0x80) i--;
  if (i >= 0) {
    const lead = s[i]!;
    const need = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    if (end - i < need) end = i;
  }
  return s.subarray(0, end);
}

const INVALID_UTF8: readonly number[][] = [
  [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80],
  [0xff], [0xfe], [0x80], [0xbf], [0xe2, 0x28, 0xa1], [0xc2, 0x41], [0xf0, 0x9f, 0x98, 0x41],
];
/** Sequences that are valid prefixes but invalid as an ending. */
const TRUNCATED_UTF8: readonly number[][] = [[0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xf4, 0x8f], [0xe0, 0xa0]];

function withInvalidUtf8(r: Rng, pools: Pools, size: number): Buffer {
  const bad = Buffer.from(r.pick(INVALID_UTF8));
  const before = textSlice(r, pools, r.int(size + 1));
  const after = textSlice(r, pools, r.int(size + 1));
  return Buffer.concat([before, bad, after]);
}

function payloadSize(r: Rng): number {
  const k = r.float();
  if (k < 0.03) return r.pick([0, 1, 2, 125, 126, 127, 128, 1023, 1024, 65535, 65536]);
  if (k < 0.8) return r.int(41);
  if (k < 0.93) return r.range(41, 700);
  if (k < 0.985) return r.range(126, 8192);
  if (k < 0.997) return r.range(8192, 65535);
  return r.range(65536 - 64, 65536);
}

// ——— frame encoding (client side) ———

interface FrameSpec {
  opcode: number;
  payload: Uint8Array;
  fin?: boolean;
  rsv?: number;
  masked?: boolean;
  /** Length field form; default the minimal one. */
  form?: 7 | 16 | 64;
  /** The length written in the header, when it is not the payload's (a lie, or a huge one never sent). */
  declared?: number;
  /** Raw high word of a 64-bit length (for the most significant bit). */
  declaredHigh?: number;
}

export function encodeFrame(r: Rng, spec: FrameSpec): Buffer {
  const n = spec.payload.length;
  const declared = spec.declared ?? n;
  const form = spec.form ?? (declared < 126 ? 7 : declared < 65536 ? 16 : 64);
  const masked = spec.masked ?? true;
  const headerLength = 2 + (form === 16 ? 2 : form === 64 ? 8 : 0) + (masked ? 4 : 0);
  const buf = Buffer.allocUnsafe(headerLength + n);
  buf[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  let p = 2;
  if (form === 7) buf[1] = maskBit | (declared & 0x7f);
  else if (form === 16) {
    buf[1] = maskBit | 126;
    buf.writeUInt16BE(declared & 0xffff, 2);
    p = 4;
  } else {
    buf[1] = maskBit | 127;
    buf.writeUInt32BE((spec.declaredHigh ?? Math.floor(declared / 4294967296)) >>> 0, 2);
    buf.writeUInt32BE(declared >>> 0, 6);
    p = 10;
  }
  let key = 0;
  if (masked) {
    key = r.u32();
    buf.writeUInt32BE(key, p);
    p += 4;
  }
  buf.set(spec.payload, p);
  if (masked) applyMask(buf, p, p + n, key, 0);
  return buf;
}

// ——— frame streams ———

export type Profile = 'ci' | 'long';

/** The rule an injected violation breaks, and the code(s) it must get. */
const KNOWN_VIOLATIONS = {
  unmasked: [1002],
  rsv: [1002],
  'reserved-opcode': [1002],
  'control-too-long': [1002],
  'control-fragmented': [1002],
  'unexpected-continuation': [1002],
  'expected-continuation': [1002],
  'msb-length': [1002, 1009],
  'oversize-frame': [1009],
  'oversize-message': [1009],
  'too-many-fragments': [1009],
  'bad-utf8-text': [1007],
  'bad-utf8-fragment': [1007],
  'truncated-utf8-end': [1007],
  'close-1-byte': [1002],
  'close-bad-code': [1002],
  'close-bad-reason': [1007],
} as const;
type KnownViolation = keyof typeof KNOWN_VIOLATIONS;
const KNOWN_NAMES = Object.keys(KNOWN_VIOLATIONS) as KnownViolation[];

type UnknownMutation = 'bitflip' | 'length-lie' | 'truncate' | 'random-frames' | 'random-bytes';
const UNKNOWN_NAMES: readonly UnknownMutation[] = ['bitflip', 'length-lie', 'truncate', 'random-frames', 'random-bytes'];

const VALID_CLOSE_CODES = [1000, 1000, 1000, 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
const INVALID_CLOSE_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

/** Builds a frame stream, tracking the message in progress so that valid frames stay valid. */
class StreamBuilder {
  readonly parts: Buffer[] = [];
  bytes = 0;
  frames = 0;
  /** Fragments of the open message not sent yet (the last one has fin). */
  pending: { opcode: number; pieces: Buffer[] } | null = null;
  openFragments = 0;
  openLength = 0;

  constructor(
    readonly r: Rng,
    readonly pools: Pools,
    readonly limits: Limits,
  ) {}

  get open(): boolean {
    return this.pending !== null;
  }

  add(frame: Buffer, frames = 1): void {
    this.parts.push(frame);
    this.bytes += frame.length;
    this.frames += frames;
  }

  frame(spec: FrameSpec): void {
    this.add(encodeFrame(this.r, spec));
  }

  /** One valid step: a message, a fragment of the open one, or a control frame. */
  validItem(): void {
    const r = this.r;
    if (this.pending !== null) {
      if (r.chance(0.75)) this.nextFragment();
      else this.control();
      return;
    }
    const k = r.float();
    if (k < 0.33) this.frame({ opcode: 1, payload: textSlice(r, this.pools, Math.min(payloadSize(r), this.limits.maxMessageSize - 3)) });
    else if (k < 0.58) this.frame({ opcode: 2, payload: binSlice(r, this.pools, payloadSize(r)) });
    else if (k < 0.72) this.startFragmented(r.chance(0.5) ? 1 : 2);
    else if (k < 0.95) this.control();
    else if (r.chance(0.5)) this.frame({ opcode: r.chance(0.5) ? 1 : 2, payload: Buffer.alloc(0) });
    else {
      // An empty fragmented message.
      this.frame({ opcode: r.chance(0.5) ? 1 : 2, payload: Buffer.alloc(0), fin: false });
      this.frame({ opcode: 0, payload: Buffer.alloc(0) });
    }
  }

  control(): void {
    const r = this.r;
    const payload = r.chance(0.5) ? binSlice(r, this.pools, r.int(126)) : textUpTo(r, this.pools, r.int(126));
    this.frame({ opcode: r.chance(0.7) ? 9 : 10, payload });
  }

  /** Opens a fragmented message: the whole message, cut into 2..maxFragments pieces at any byte. */
  startFragmented(opcode: number, fragments?: number): void {
    const r = this.r;
    const max = this.limits.maxMessageSize;
    const size = Math.min(max - 3, r.chance(0.9) ? payloadSize(r) * 2 : r.range(max / 2, max - 3));
    const message = opcode === 1 ? textSlice(r, this.pools, size) : binSlice(r, this.pools, size);
    const count = fragments ?? r.range(2, this.limits.maxFragments);
    const cuts: number[] = [];
    for (let i = 1; i < count; i++) cuts.push(r.int(message.length + 1));
    cuts.sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let at = 0;
    for (const cut of cuts) {
      pieces.push(message.subarray(at, cut));
      at = cut;
    }
    pieces.push(message.subarray(at));
    this.pending = { opcode, pieces };
    this.openFragments = 0;
    this.openLength = 0;
    this.nextFragment();
  }

  nextFragment(): void {
    const pending = this.pending!;
    const piece = pending.pieces.shift()!;
    const first = this.openFragments === 0;
    const fin = pending.pieces.length === 0;
    this.frame({ opcode: first ? pending.opcode : 0, payload: piece, fin });
    this.openFragments++;
    this.openLength += piece.length;
    if (fin) this.pending = null;
  }

  /** Finishes the open message, if any. */
  finishOpen(): void {
    while (this.pending !== null) this.nextFragment();
  }

  closeFrame(): void {
    const r = this.r;
    if (r.chance(0.15)) {
      this.frame({ opcode: 8, payload: Buffer.alloc(0) });
      return;
    }
    const reason = r.chance(0.5) ? Buffer.alloc(0) : textUpTo(r, this.pools, r.int(124));
    const payload = Buffer.allocUnsafe(2 + reason.length);
    payload.writeUInt16BE(r.chance(0.8) ? r.pick(VALID_CLOSE_CODES) : r.range(3000, 4999), 0);
    reason.copy(payload, 2);
    this.frame({ opcode: 8, payload });
  }

  /** A data opcode that is valid here (Continuation while a message is open) and its fin. */
  private dataSlot(): { opcode: number; fin: boolean } {
    if (this.pending !== null) return { opcode: 0, fin: this.pending.pieces.length === 1 };
    return { opcode: this.r.chance(0.5) ? 1 : 2, fin: true };
  }

  inject(kind: KnownViolation): void {
    const r = this.r;
    const pools = this.pools;
    const max = this.limits.maxMessageSize;
    switch (kind) {
      case 'unmasked': {
        if (r.chance(0.3)) this.frame({ opcode: 9, payload: binSlice(r, pools, r.int(126)), masked: false });
        else this.frame({ ...this.dataSlot(), payload: binSlice(r, pools, payloadSize(r)), masked: false });
        break;
      }
      case 'rsv':
        this.frame({ ...(r.chance(0.3) ? { opcode: r.pick([8, 9, 10]), fin: true } : this.dataSlot()), payload: binSlice(r, pools, r.int(126)), rsv: r.range(1, 7) });
        break;
      case 'reserved-opcode':
        this.frame({ opcode: r.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload: binSlice(r, pools, payloadSize(r)), fin: r.chance(0.8) });
        break;
      case 'control-too-long': {
        const n = r.range(126, 400);
        this.frame({ opcode: r.pick([8, 9, 10]), payload: binSlice(r, pools, n), form: r.chance(0.8) ? 16 : 64 });
        break;
      }
      case 'control-fragmented':
        this.frame({ opcode: r.pick([8, 9, 10]), payload: binSlice(r, pools, r.int(126)), fin: false });
        break;
      case 'unexpected-continuation':
        this.finishOpen();
        this.frame({ opcode: 0, payload: binSlice(r, pools, payloadSize(r)), fin: r.chance(0.5) });
        break;
      case 'expected-continuation':
        if (this.pending === null) this.startFragmented(r.chance(0.5) ? 1 : 2);
        if (this.pending === null) this.frame({ opcode: 2, payload: Buffer.alloc(1), fin: false }); // it had one fragment only
        this.frame({ opcode: r.chance(0.5) ? 1 : 2, payload: textSlice(r, pools, r.int(100)), fin: r.chance(0.7) });
        break;
      case 'msb-length':
        this.add(
          Buffer.concat([
            encodeFrame(r, { ...this.dataSlot(), payload: Buffer.alloc(0), form: 64, declared: r.u32(), declaredHigh: (0x80000000 | r.u32()) >>> 0 }),
            binSlice(r, pools, r.int(64)),
          ]),
        );
        break;
      case 'oversize-frame': {
        const declared = r.chance(0.5) ? max + r.range(1, 1000) : r.pick([2 ** 32, 2 ** 40, 2 ** 53 - 1, 0x7fffffff * 2 ** 32]);
        const slot = this.dataSlot();
        if (r.chance(0.2) && declared <= max + 1000) {
          this.frame({ ...slot, payload: binSlice(r, pools, declared) }); // the whole payload, for once
        } else {
          // Only the header and a little: the server must refuse it on the header alone.
          this.add(Buffer.concat([encodeFrame(r, { ...slot, payload: Buffer.alloc(0), form: 64, declared }), binSlice(r, pools, r.int(300))]));
        }
        break;
      }
      case 'oversize-message': {
        // Binary, so that filler fragments cannot break UTF-8 first.
        if (this.pending !== null && this.pending.opcode === 1) this.finishOpen();
        if (this.pending === null) this.startFragmented(2, r.range(3, this.limits.maxFragments));
        if (this.pending === null) this.frame({ opcode: 2, payload: Buffer.alloc(1), fin: false });
        // Fill up to near the limit, then one continuation over it.
        let room = max - this.openLength;
        if (room > 5000 && this.openFragments < this.limits.maxFragments - 2) {
          const n = room - r.range(1, 4000);
          this.frame({ opcode: 0, payload: binSlice(r, pools, n), fin: false });
          this.openFragments++;
          room -= n;
        }
        const over = room + r.range(1, 3000);
        if (over <= 70000 && r.chance(0.7)) this.frame({ opcode: 0, payload: binSlice(r, pools, over), fin: r.chance(0.5) });
        else this.add(encodeFrame(r, { opcode: 0, payload: Buffer.alloc(0), declared: over, fin: r.chance(0.5) }));
        break;
      }
      case 'too-many-fragments': {
        if (this.pending !== null && this.pending.opcode === 1) this.finishOpen(); // binary: no UTF-8 in the way
        let sent = this.openFragments;
        if (this.pending === null) {
          this.frame({ opcode: 2, payload: binSlice(r, pools, r.int(20)), fin: false });
          sent = 1;
        }
        this.pending = null;
        for (let i = sent; i < this.limits.maxFragments; i++) {
          if (r.chance(0.2)) this.control();
          this.frame({ opcode: 0, payload: binSlice(r, pools, r.int(20)), fin: false });
        }
        this.frame({ opcode: 0, payload: binSlice(r, pools, r.int(20)), fin: r.chance(0.5) });
        break;
      }
      case 'bad-utf8-text':
        this.finishOpen();
        this.frame({ opcode: 1, payload: withInvalidUtf8(r, pools, r.int(200)) });
        break;
      case 'bad-utf8-fragment': {
        if (this.pending === null || this.pending.opcode !== 1) {
          this.finishOpen();
          if (r.chance(0.3)) {
            // The first fragment is already bad.
            this.frame({ opcode: 1, payload: withInvalidUtf8(r, pools, r.int(100)), fin: false });
            break;
          }
          this.frame({ opcode: 1, payload: textSlice(r, pools, r.int(100)), fin: false });
        }
        this.pending = null;
        this.frame({ opcode: 0, payload: withInvalidUtf8(r, pools, r.int(100)), fin: r.chance(0.5) });
        break;
      }
      case 'truncated-utf8-end': {
        const tail = Buffer.from(r.pick(TRUNCATED_UTF8));
        if (this.pending !== null && this.pending.opcode === 1) {
          this.pending = null;
          this.frame({ opcode: 0, payload: Buffer.concat([textSlice(r, pools, r.int(50)), tail]) });
        } else {
          this.finishOpen();
          this.frame({ opcode: 1, payload: Buffer.concat([textSlice(r, pools, r.int(50)), tail]) });
        }
        break;
      }
      case 'close-1-byte':
        this.frame({ opcode: 8, payload: binSlice(r, pools, 1) });
        break;
      case 'close-bad-code': {
        const payload = Buffer.alloc(2);
        payload.writeUInt16BE(r.pick(INVALID_CLOSE_CODES), 0);
        this.frame({ opcode: 8, payload: Buffer.concat([payload, textUpTo(r, pools, r.int(30))]) });
        break;
      }
      case 'close-bad-reason': {
        const payload = Buffer.alloc(2);
        payload.writeUInt16BE(r.pick(VALID_CLOSE_CODES), 0);
        let reason = withInvalidUtf8(r, pools, r.int(40));
        if (reason.length > 123) reason = Buffer.concat([reason.subarray(0, 120), Buffer.from([0xff])]);
        this.frame({ opcode: 8, payload: Buffer.concat([payload, reason]) });
        break;
      }
    }
  }

  /** A mutation whose effect the model works out from the bytes. */
  mutate(kind: UnknownMutation): void {
    const r = this.r;
    const pools = this.pools;
    switch (kind) {
      case 'bitflip': {
        const before = this.parts.length;
        this.validItem();
        const frame = this.parts[this.parts.length - 1]!;
        if (this.parts.length === before || frame.length === 0) break;
        const flips = r.range(1, 3);
        for (let i = 0; i < flips; i++) {
          const span = r.chance(0.7) ? Math.min(frame.length, 14) : frame.length;
          frame[r.int(span)]! ^= 1 << r.int(8);
        }
        this.pending = null;
        break;
      }
      case 'length-lie': {
        const payload = binSlice(r, pools, payloadSize(r));
        const delta = r.chance(0.5) ? r.range(1, 100) * (r.chance(0.5) ? 1 : -1) : r.int(70000) - payload.length;
        const declared = Math.max(0, payload.length + delta);
        this.frame({ ...this.dataSlot(), payload, declared, form: declared < 126 ? 7 : declared < 65536 ? 16 : 64 });
        this.pending = null;
        const more = r.int(10);
        for (let i = 0; i < more; i++) this.validItem();
        break;
      }
      case 'truncate': {
        this.validItem();
        const last = this.parts.pop()!;
        this.bytes -= last.length;
        const cut = last.subarray(0, r.int(last.length));
        this.parts.push(cut);
        this.bytes += cut.length;
        break;
      }
      case 'random-frames': {
        const count = r.range(1, 50);
        for (let i = 0; i < count; i++) {
          const opcode = r.chance(0.8) ? r.pick([0, 1, 2, 8, 9, 10]) : r.int(16);
          const kindOfPayload = r.int(4);
          const size = opcode >= 8 && r.chance(0.9) ? r.int(126) : payloadSize(r);
          const payload =
            kindOfPayload === 0 ? binSlice(r, pools, size) : kindOfPayload === 1 ? textSlice(r, pools, size) : kindOfPayload === 2 ? withInvalidUtf8(r, pools, size >> 1) : Buffer.alloc(size);
          const n = payload.length;
          const minimal = n < 126 ? 7 : n < 65536 ? 16 : 64;
          const form = r.chance(0.1) ? r.pick([16, 64] as const) : minimal;
          this.frame({
            opcode,
            payload,
            fin: r.chance(0.8),
            rsv: r.chance(0.05) ? r.range(1, 7) : 0,
            masked: r.chance(0.97),
            form: form < minimal ? minimal : form,
          });
        }
        this.pending = null;
        break;
      }
      case 'random-bytes':
        this.add(binSlice(r, pools, r.range(1, 5000)), 0);
        this.pending = null;
        break;
    }
  }
}

// ——— handshakes ———

interface HeadPlan {
  head: Buffer;
  key: string;
  mutation: string;
  /** The status a deterministic mutation must get. */
  expectStatus?: number;
}

function requestLines(r: Rng, key: string): string[] {
  const path = r.pick(['/', '/', '/chat', '/a/b?c=d&e=%20f', `/${'x'.repeat(r.int(300))}`, 'ws://127.0.0.1:9001/abs']);
  const headers = [
    'Host: 127.0.0.1:9001',
    r.pick(['Upgrade: websocket', 'Upgrade: WebSocket', 'upgrade: websocket', 'Upgrade: foo, websocket']),
    r.pick(['Connection: Upgrade', 'Connection: upgrade', 'Connection: keep-alive, Upgrade', 'connection: Upgrade']),
    `Sec-WebSocket-Key: ${key}`,
    r.pick(['Sec-WebSocket-Version: 13', 'sec-websocket-version: 13', 'Sec-WebSocket-Version:13', 'Sec-WebSocket-Version:   13  ']),
  ];
  if (r.chance(0.2)) headers.push('User-Agent: lightws-fuzz/1');
  if (r.chance(0.15)) headers.push(`Sec-WebSocket-Protocol: ${r.pick(['chat', 'chat, superchat', 'v1.fuzz'])}`);
  if (r.chance(0.15)) headers.push(`Sec-WebSocket-Extensions: ${r.pick(['permessage-deflate', 'permessage-deflate; client_max_window_bits', 'x-foo'])}`);
  if (r.chance(0.1)) headers.push('Accept-Encoding: gzip', 'Cache-Control: no-cache');
  // Any header order is valid.
  for (let i = headers.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [headers[i], headers[j]] = [headers[j]!, headers[i]!];
  }
  return [`GET ${path} HTTP/1.1`, ...headers];
}

function joinHead(lines: readonly string[]): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function headerIndex(lines: readonly string[], name: string): number {
  return lines.findIndex((l, i) => i > 0 && l.toLowerCase().startsWith(`${name}:`));
}

function withoutHeader(lines: string[], name: string): string[] {
  const i = headerIndex(lines, name);
  return i < 0 ? lines : lines.filter((_, j) => j !== i);
}

function replaceHeader(lines: string[], name: string, line: string): string[] {
  const i = headerIndex(lines, name);
  const out = lines.slice();
  if (i < 0) out.push(line);
  else out[i] = line;
  return out;
}

type HeadMutator = (r: Rng, lines: string[], limits: Limits) => { head: Buffer; expect?: number };

const HEAD_MUTATORS: readonly (readonly [string, HeadMutator])[] = [
  ['method', (r, l) => ({ head: joinHead([l[0]!.replace(/^GET/, r.pick(['POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'get'])), ...l.slice(1)]), expect: 405 })],
  ['http-1.0', (_r, l) => ({ head: joinHead([l[0]!.replace(/HTTP\/1\.1$/, 'HTTP/1.0'), ...l.slice(1)]), expect: 400 })],
  ['http-major', (r, l) => ({ head: joinHead([l[0]!.replace(/HTTP\/1\.1$/, r.pick(['HTTP/2.0', 'HTTP/0.9', 'HTTP/3.1'])), ...l.slice(1)]), expect: 505 })],
  ['ws-version', (r, l) => ({ head: joinHead(replaceHeader(l, 'sec-websocket-version', `Sec-WebSocket-Version: ${r.pick(['8', '7', '12', '14', '', '13, 8', '1.3'])}`)), expect: 426 })],
  ['no-ws-version', (_r, l) => ({ head: joinHead(withoutHeader(l, 'sec-websocket-version')), expect: 426 })],
  ['no-key', (_r, l) => ({ head: joinHead(withoutHeader(l, 'sec-websocket-key')), expect: 400 })],
  ['bad-key', (r, l) => ({
    head: joinHead(replaceHeader(l, 'sec-websocket-key', `Sec-WebSocket-Key: ${r.pick(['abc', r.bytes(15).toString('base64'), r.bytes(17).toString('base64'), 'AAAAAAAAAAAAAAAAAAAAA!==', ''])}`)),
    expect: 400,
  })],
  ['no-host', (_r, l) => ({ head: joinHead(withoutHeader(l, 'host')), expect: 400 })],
  ['no-upgrade', (_r, l) => ({ head: joinHead(withoutHeader(l, 'upgrade')), expect: 400 })],
  ['no-connection', (_r, l) => ({ head: joinHead(withoutHeader(l, 'connection')), expect: 400 })],
  ['wrong-upgrade', (r, l) => ({ head: joinHead(replaceHeader(l, 'upgrade', `Upgrade: ${r.pick(['h2c', 'web socket', 'websockets'])}`)), expect: 400 })],
  ['wrong-connection', (_r, l) => ({ head: joinHead(replaceHeader(l, 'connection', 'Connection: keep-alive')), expect: 400 })],
  ['dup-header', (r, l) => {
    const name = r.pick(['host', 'sec-websocket-key', 'sec-websocket-version']);
    const i = headerIndex(l, name);
    return { head: joinHead([...l, l[i]!]), expect: 400 };
  }],
  ['body', (r, l) => ({ head: joinHead([...l, r.pick(['Content-Length: 5', 'Transfer-Encoding: chunked', 'Content-Length: 1'])]), expect: 400 })],
  ['bare-lf', (r, l) => {
    const at = r.range(1, l.length - 1);
    const text = `${l.slice(0, at).join('\r\n')}\n${l.slice(at).join('\r\n')}\r\n\r\n`;
    return { head: Buffer.from(text, 'latin1'), expect: 400 };
  }],
  ['obs-fold', (r, l) => {
    const at = r.range(2, l.length);
    return { head: joinHead([...l.slice(0, at), r.pick([' folded', '\tfolded'])!, ...l.slice(at)]), expect: 400 };
  }],
  ['space-before-colon', (_r, l) => ({ head: joinHead([...l, 'X-Bad : 1']), expect: 400 })],
  ['ctl-in-value', (r, l) => ({ head: joinHead([...l, `X-Bad: a${r.pick(['\x00', '\x01', '\x7f', '\x1b'])}b`]), expect: 400 })],
  ['empty-name', (_r, l) => ({ head: joinHead([...l, ': value']), expect: 400 })],
  ['bad-target', (r, l) => ({ head: joinHead([`GET ${r.pick(['*', 'example.com:80', 'chat', '%2F'])} HTTP/1.1`, ...l.slice(1)]), expect: 400 })],
  ['origin', (_r, l) => ({ head: joinHead([...l, 'Origin: http://evil.example']), expect: 403 })],
  ['huge', (r, l, limits) => ({ head: joinHead([...l, `X-Pad: ${'a'.repeat(limits.maxHeaderSize + r.int(8000))}`]), expect: 431 })],
  ['many-headers', (r, l) => {
    const extra: string[] = [];
    const count = r.range(50, 800);
    for (let i = 0; i < count; i++) extra.push(`X-H${i}: ${'v'.repeat(r.int(10))}`);
    return { head: joinHead([...l, ...extra]) };
  }],
  ['truncate', (r, l) => {
    const full = joinHead(l);
    return { head: full.subarray(0, r.int(full.length)) };
  }],
  ['bytes', (r, l) => {
    let head = Buffer.from(joinHead(l));
    const ops = r.range(1, 3);
    for (let i = 0; i < ops; i++) {
      const at = r.int(head.length);
      switch (r.int(5)) {
        case 0: head[at]! ^= 1 << r.int(8); break;
        case 1: head[at] = r.pick([0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x00, 0xff, r.int(256)]); break;
        case 2: head = Buffer.concat([head.subarray(0, at), head.subarray(Math.min(head.length, at + r.range(1, 20)))]); break;
        case 3: head = Buffer.concat([head.subarray(0, at), r.chance(0.5) ? r.bytes(r.range(1, 20)) : Buffer.from(r.pick(['\r\n', '\r\n\r\n', ':', ' ', '\n'])), head.subarray(at)]); break;
        default: {
          const len = r.range(1, 40);
          head = Buffer.concat([head.subarray(0, at), head.subarray(at, at + len), head.subarray(at)]);
        }
      }
    }
    return { head };
  }],
];

function planHead(r: Rng, limits: Limits, mutate: boolean): HeadPlan {
  const key = r.bytes(16).toString('base64');
  const lines = requestLines(r, key);
  if (!mutate) return { head: joinHead(lines), key, mutation: 'none' };
  const [name, mutator] = r.pick(HEAD_MUTATORS);
  const { head, expect } = mutator(r, lines, limits);
  const plan: HeadPlan = { head, key, mutation: name };
  if (expect !== undefined) plan.expectStatus = expect;
  return plan;
}

// ——— cases ———

export type Ending = 'wait' | 'halfclose' | 'reset';
export type Delivery = 'bulk' | 'chunks' | 'trickle';

export interface Case {
  seed: number;
  index: number;
  profile: Profile;
  head: Buffer;
  key: string;
  headMutation: string;
  expectStatus?: number;
  /** What the body is: 'valid', 'valid+close', 'violation:<rule>', 'mutation:<kind>', 'empty'. */
  body: Buffer;
  bodyKind: string;
  /** The code(s) the injected violation must get, when the first violation is known. */
  expectCodes?: readonly number[];
  framesGenerated: number;
  /** Send the body only after the 101. */
  waitFor101: boolean;
  /**
   * Send the body even after a refusal: it holds a second, valid upgrade
   * request, which a server that has refused the first must ignore.
   */
  sendAfterRefusal: boolean;
  delivery: Delivery;
  chunkSeed: number;
  ending: Ending;
  /** For 'reset': how many bytes (head + body) go out before the reset. */
  resetAt: number;
  /** RST (resetAndDestroy) rather than a plain destroy. */
  resetHard: boolean;
  /** Answer the server's Close with one before ending. */
  echoClose: boolean;
}

function itemCount(r: Rng, profile: Profile): number {
  const k = r.float();
  if (profile === 'ci') return k < 0.5 ? r.int(9) : k < 0.92 ? r.range(8, 60) : r.range(60, 400);
  return k < 0.25 ? r.int(11) : k < 0.6 ? r.range(10, 300) : r.range(300, 3000);
}

export function generateCase(seed: number, index: number, pools: Pools, profile: Profile, limits: Limits = LIMITS): Case {
  const r = new Rng(caseSeed(seed, index));
  const headMutated = r.chance(profile === 'ci' ? 0.15 : 0.1);
  const plan = planHead(r, limits, headMutated);
  const b = new StreamBuilder(r, pools, limits);
  let bodyKind: string;
  let expectCodes: readonly number[] | undefined;
  let terminal = true;
  let sendAfterRefusal = false;
  if (headMutated) {
    if (plan.mutation === 'truncate' || r.chance(0.45)) {
      bodyKind = 'empty';
      terminal = false;
    } else if (r.chance(0.35)) {
      // A second request after the refused one, sent once the refusal is in.
      b.add(joinHead(requestLines(r, r.bytes(16).toString('base64'))), 0);
      const n = r.int(4);
      for (let i = 0; i < n; i++) b.validItem();
      b.finishOpen();
      b.closeFrame();
      bodyKind = 'second-request';
      sendAfterRefusal = true;
    } else {
      const n = r.int(6);
      for (let i = 0; i < n; i++) b.validItem();
      b.finishOpen();
      b.closeFrame();
      bodyKind = 'valid+close';
    }
  } else {
    const plan = r.weighted([
      ['valid', 30],
      ['violation', 38],
      ['mutation', 22],
      ['empty', 3],
    ] as const);
    const items = plan === 'empty' ? 0 : itemCount(r, profile);
    for (let i = 0; i < items; i++) b.validItem();
    if (plan === 'valid' || plan === 'empty') {
      const closeIt = r.chance(profile === 'ci' ? 0.85 : 0.8);
      if (closeIt) {
        b.finishOpen();
        b.closeFrame();
        bodyKind = 'valid+close';
      } else {
        if (r.chance(0.5)) b.finishOpen();
        bodyKind = plan;
        terminal = false;
      }
    } else if (plan === 'violation') {
      const kind = r.pick(KNOWN_NAMES);
      b.inject(kind);
      bodyKind = `violation:${kind}`;
      expectCodes = KNOWN_VIOLATIONS[kind];
    } else {
      const kind = r.pick(UNKNOWN_NAMES);
      b.mutate(kind);
      bodyKind = `mutation:${kind}`;
      if (kind === 'truncate') terminal = false;
    }
    // Whatever follows the first violation must be ignored.
    if (plan === 'violation' || (plan === 'mutation' && bodyKind !== 'mutation:truncate')) {
      const tail = r.int(10);
      if (tail < 3) b.add(binSlice(r, pools, r.range(1, 2000)), 0);
      else if (tail < 5) {
        const n = r.int(8);
        for (let i = 0; i < n; i++) b.validItem();
        b.closeFrame();
      }
    }
  }
  const body = Buffer.concat(b.parts);
  const total = plan.head.length + body.length;
  const ending: Ending = sendAfterRefusal
    ? 'wait'
    : terminal
    ? r.weighted([['wait', 82], ['halfclose', 6], ['reset', 12]] as const)
    : r.weighted([['wait', profile === 'ci' ? 25 : 40], ['halfclose', 35], ['reset', 30]] as const);
  const resetAt =
    ending !== 'reset' ? total : body.length > 0 && r.chance(0.7) ? plan.head.length + r.int(body.length + 1) : r.int(total + 1);
  const delivery: Delivery = r.weighted([['bulk', 70], ['chunks', 24], ['trickle', 6]] as const);
  const c: Case = {
    seed,
    index,
    profile,
    head: plan.head,
    key: plan.key,
    headMutation: plan.mutation,
    body,
    bodyKind,
    framesGenerated: b.frames,
    waitFor101: sendAfterRefusal || (ending !== 'reset' && r.chance(0.25)),
    sendAfterRefusal,
    delivery,
    chunkSeed: r.u32(),
    ending,
    resetAt,
    resetHard: r.chance(0.5),
    echoClose: r.chance(0.5),
  };
  if (plan.expectStatus !== undefined) c.expectStatus = plan.expectStatus;
  if (expectCodes !== undefined) c.expectCodes = expectCodes;
  return c;
}

// ——— the reference model ———

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
        need = 1; lo = 0x80; hi = 0xbf;
      } else if (c === 0xe0) {
        need = 2; lo = 0xa0; hi = 0xbf;
      } else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) {
        need = 2; lo = 0x80; hi = 0xbf;
      } else if (c === 0xed) {
        need = 2; lo = 0x80; hi = 0x9f;
      } else if (c === 0xf0) {
        need = 3; lo = 0x90; hi = 0xbf;
      } else if (c >= 0xf1 && c <= 0xf3) {
        need = 3; lo = 0x80; hi = 0xbf;
      } else if (c === 0xf4) {
        need = 3; lo = 0x80; hi = 0x8f;
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

function isUtf8(b: Uint8Array): boolean {
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
  const violation = (codes: Set<number>, rules: string[]): ModelResult => ({ replies, end: { kind: 'violation', codes: [...codes].sort(), rules }, frames: frames + 1 });
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
    let rules: string[] = [];
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
          if (openFragments >= limits.maxFragments) add(1009, 'too-many-fragments');
        }
      } else if (openOpcode !== 0) add(1002, 'expected-continuation');
    }
    if (codes !== null) return violation(codes, rules);
    if (avail < headerLength || avail - headerLength < length) return { replies, end: { kind: 'incomplete', inProgress: true }, frames };
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
          if (openUtf8 === UTF8_FAIL || (fin && openUtf8 !== UTF8_ACCEPT)) return violation(new Set([1007]), ['invalid-utf8']);
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
    for (let i = 0; i < length; i++) out[i] = s[start + i]! ^ ((i & 3) === 0 ? k0 : (i & 3) === 1 ? k1 : (i & 3) === 2 ? k2 : k3);
    return out;
  }
  const bytes = new Uint8Array(length);
  bytes.set(s.subarray(start, start + length));
  const words = new Int32Array(bytes.buffer, 0, length >>> 2);
  // The key as the int32 whose memory bytes are k0 k1 k2 k3 (little-endian, like every platform Node runs on here).
  const key = k0 | (k1 << 8) | (k2 << 16) | (k3 << 24);
  for (let i = 0; i < words.length; i++) words[i]! ^= key;
  for (let i = length & ~3; i < length; i++) bytes[i]! ^= (i & 3) === 0 ? k0 : (i & 3) === 1 ? k1 : (i & 3) === 2 ? k2 : k3;
  return Buffer.from(bytes.buffer, 0, length);
}

/** Where the upgrade request ends (after CRLFCRLF) in `bytes`, or -1. */
export function headEnd(bytes: Buffer): number {
  const i = bytes.indexOf('\r\n\r\n', 0, 'latin1');
  return i < 0 ? -1 : i + 4;
}

// ——— the client ———

export interface Observed {
  /** The HTTP status, null when no response came. */
  status: number | null;
  responseLine: string;
  acceptValid: boolean | null;
  /** Replies (echoes, pongs) that arrived and matched the model, in order. */
  replies: number;
  mismatch: string | null;
  /** The server's close code (1005 for an empty Close), null without a Close. */
  closeCode: number | null;
  closeReason: string;
  badFrame: string | null;
  framesAfterClose: number;
  /** Bytes after an HTTP error response and its Content-Length body (a second response?). */
  bytesAfterRefusal: number;
  timedOut: boolean;
  bytesWritten: number;
  connectError: string | null;
  ms: number;
}

const EMPTY = Buffer.alloc(0);

function expectedAccept(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

function closeFrame(code: number | null): Buffer {
  const key = (Math.random() * 4294967296) >>> 0;
  const payload = Buffer.alloc(code === null || code === 1005 || !validCloseCode(code) ? 0 : 2);
  if (payload.length === 2) payload.writeUInt16BE(code!, 0);
  const frame = Buffer.from([0x88, 0x80 | payload.length, key >>> 24, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff, ...payload]);
  applyMask(frame, 6, frame.length, key, 0);
  return frame;
}

/**
 * Runs one case on a fresh TCP connection: delivers its bytes in its own
 * chunking, checks every server frame against `expect` as it arrives, and
 * resolves when the socket is closed (or after `boundMs`: a hang).
 */
export function runCase(port: number, c: Case, expect: ModelResult | null, boundMs: number): Promise<Observed> {
  const started = Date.now();
  const obs: Observed = {
    status: null, responseLine: '', acceptValid: null, replies: 0, mismatch: null, closeCode: null, closeReason: '',
    badFrame: null, framesAfterClose: 0, bytesAfterRefusal: 0, timedOut: false, bytesWritten: 0, connectError: null, ms: 0,
  };
  return new Promise((resolve) => {
    // Half-open allowed, so a case can keep writing after the server's FIN (sendAfterRefusal);
    // otherwise the client ends as soon as the server does, as by default.
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true, allowHalfOpen: true });
    let holdOpen = c.sendAfterRefusal;
    let serverEnded = false;
    let refusalBody = 0;
    let pending: Buffer = EMPTY;
    let phase: 'head' | 'frames' | 'http' = 'head';
    let stopWriting = false;
    let statusWaiter: (() => void) | null = null;
    let closed = false;
    const timer = setTimeout(() => {
      obs.timedOut = true;
      socket.destroy();
    }, boundMs);

    const fail = (what: 'mismatch' | 'badFrame', message: string): void => {
      if (obs[what] === null) obs[what] = message;
      socket.destroy();
    };

    const onServerClose = (): void => {
      stopWriting = true;
      if (socket.destroyed || socket.writableEnded) return;
      if (c.echoClose) socket.write(closeFrame(obs.closeCode));
      socket.end();
    };

    const onFrame = (fin: boolean, opcode: number, payload: Buffer): void => {
      if (obs.closeCode !== null) {
        obs.framesAfterClose++;
        return;
      }
      if (opcode === 8) {
        if (payload.length === 1) return fail('badFrame', 'server Close with a 1-byte body');
        obs.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (!isUtf8(payload.subarray(2))) return fail('badFrame', 'server close reason is not UTF-8');
        obs.closeReason = payload.subarray(2).toString('utf8');
        onServerClose();
        return;
      }
      if (!fin || opcode === 0) return fail('mismatch', `server sent a fragment (opcode ${opcode}, fin ${fin})`);
      const want = expect?.replies[obs.replies];
      if (want === undefined) return fail('mismatch', `unexpected reply #${obs.replies}: opcode ${opcode}, ${payload.length} B`);
      if (want.opcode !== opcode || !want.payload.equals(payload)) {
        let at = 0;
        while (at < Math.min(want.payload.length, payload.length) && want.payload[at] === payload[at]) at++;
        return fail(
          'mismatch',
          `reply #${obs.replies}: expected opcode ${want.opcode} ${want.payload.length} B, got opcode ${opcode} ${payload.length} B (first difference at byte ${at}: ` +
            `expected ${want.payload.subarray(at, at + 8).toString('hex')} got ${payload.subarray(at, at + 8).toString('hex')})`,
        );
      }
      obs.replies++;
    };

    const parse = (): void => {
      if (phase === 'head') {
        const end = headEnd(pending);
        if (end < 0) {
          if (pending.length > 16384) fail('badFrame', 'response head over 16 KiB');
          return;
        }
        const head = pending.toString('latin1', 0, end);
        pending = pending.subarray(end);
        obs.responseLine = head.slice(0, head.indexOf('\r\n'));
        const m = /^HTTP\/1\.1 (\d{3}) /.exec(obs.responseLine);
        obs.status = m === null ? -1 : Number(m[1]);
        const contentLength = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        refusalBody = contentLength === null ? 0 : Number(contentLength[1]);
        if (obs.status === 101) {
          const accept = /\r\nsec-websocket-accept:[ \t]*([^\r\n]*?)[ \t]*\r\n/i.exec(head);
          obs.acceptValid = accept !== null && accept[1] === expectedAccept(c.key);
          phase = 'frames';
        } else phase = 'http';
        statusWaiter?.();
      }
      if (phase === 'http') {
        // The error body, then nothing: a second response would be a second request served.
        const body = Math.min(refusalBody, pending.length);
        refusalBody -= body;
        obs.bytesAfterRefusal += pending.length - body;
        pending = EMPTY;
        return;
      }
      if (phase !== 'frames') return;
      for (;;) {
        if (pending.length < 2) return;
        const b0 = pending[0]!;
        const b1 = pending[1]!;
        const opcode = b0 & 0x0f;
        if ((b0 & 0x70) !== 0 || (b1 & 0x80) !== 0 || !(opcode <= 2 || (opcode >= 8 && opcode <= 10))) {
          return fail('badFrame', `malformed server frame header ${pending.subarray(0, 2).toString('hex')}`);
        }
        const len7 = b1 & 0x7f;
        const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
        if (pending.length < 2 + extra) return;
        const length = extra === 0 ? len7 : extra === 2 ? pending.readUInt16BE(2) : Number(pending.readBigUInt64BE(2));
        if (opcode >= 8 && (length > 125 || (b0 & 0x80) === 0)) return fail('badFrame', 'malformed server control frame');
        if (pending.length < 2 + extra + length) return;
        const payload = pending.subarray(2 + extra, 2 + extra + length);
        pending = pending.subarray(2 + extra + length);
        onFrame((b0 & 0x80) !== 0, opcode, payload);
        if (socket.destroyed) return;
      }
    };

    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      parse();
    });
    socket.on('end', () => {
      serverEnded = true;
      statusWaiter?.(); // the server ended without (or after) its response
      if (!holdOpen && !socket.writableEnded) socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (obs.bytesWritten === 0 && error.code === 'ECONNREFUSED') obs.connectError = error.message;
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      stopWriting = true;
      statusWaiter?.();
      obs.ms = Date.now() - started;
      resolve(obs);
    });

    const rng = new Rng(c.chunkSeed);
    const write = async (data: Buffer): Promise<boolean> => {
      if (stopWriting || socket.destroyed || socket.writableEnded) return false;
      obs.bytesWritten += data.length;
      if (!socket.write(data)) {
        await new Promise<void>((done) => {
          const finish = (): void => {
            socket.off('drain', finish);
            socket.off('close', finish);
            done();
          };
          socket.on('drain', finish);
          socket.on('close', finish);
        });
      }
      return !stopWriting && !socket.destroyed;
    };
    const tick = (): Promise<void> => new Promise((done) => setImmediate(done));
    // Yield between writes for at most a second: under load each yield can take many
    // milliseconds, and a slower delivery would (rightly) meet the handshake or
    // slow-message timeouts. The bytes are the same either way.
    let yieldUntil = 0;
    const mayYield = (): boolean => Date.now() < yieldUntil;
    /** Sends `data` the case's way; false once the connection is gone or done. */
    const deliver = async (data: Buffer): Promise<boolean> => {
      let at = 0;
      if (c.delivery === 'trickle') {
        const until = Math.min(data.length, 400);
        for (; at < until && mayYield(); at++) {
          if (!(await write(data.subarray(at, at + 1)))) return false;
          await tick();
        }
      } else if (c.delivery === 'chunks') {
        while (at < data.length) {
          const size = rng.chance(0.4) && at < 8192 ? rng.range(1, 16) : rng.range(1, 16384);
          if (!(await write(data.subarray(at, at + size)))) return false;
          at += size;
          if (rng.chance(0.25) && mayYield()) await tick();
        }
        return true;
      }
      if (at < data.length) return write(at === 0 ? data : data.subarray(at));
      return true;
    };

    socket.once('connect', () => {
      yieldUntil = Date.now() + 1000;
      void (async () => {
        const all = c.body.length === 0 ? c.head : Buffer.concat([c.head, c.body]);
        if (c.ending === 'reset') {
          await deliver(all.subarray(0, c.resetAt));
          if (closed) return;
          if (c.resetHard) socket.resetAndDestroy();
          else socket.destroy();
          return;
        }
        if (c.waitFor101) {
          if (!(await deliver(c.head))) return;
          if (c.body.length > 0) {
            if (obs.status === null && !closed) await new Promise<void>((done) => (statusWaiter = done));
            if (closed || obs.status === null || (obs.status !== 101 && !c.sendAfterRefusal)) {
              holdOpen = false;
              if (serverEnded && !socket.destroyed && !socket.writableEnded) socket.end();
              return;
            }
            const delivered = await deliver(c.body);
            if (holdOpen) {
              holdOpen = false;
              if (serverEnded && !socket.destroyed && !socket.writableEnded) socket.end();
            }
            if (!delivered) return;
          }
        } else if (!(await deliver(all))) return;
        if (c.ending === 'halfclose' && !socket.destroyed && !socket.writableEnded) socket.end();
      })().catch(() => socket.destroy());
    });
  });
}

// ——— the oracle ———

export interface Expectation {
  /** Where the request head ends in head+body; -1 when it never does. */
  headEnd: number;
  /** The model over everything after the head, when there is a head. */
  full: ModelResult | null;
}

export function expectationOf(c: Case, limits: Limits = LIMITS): Expectation {
  let end = headEnd(c.head);
  if (end >= 0) {
    // The usual case: the head ends in the head; the frames are what is left of it, then the body.
    const stream = end === c.head.length ? c.body : Buffer.concat([c.head.subarray(end), c.body]);
    return { headEnd: end, full: model(stream, limits) };
  }
  const all = Buffer.concat([c.head, c.body]);
  end = headEnd(all);
  return { headEnd: end, full: end < 0 ? null : model(all.subarray(end), limits) };
}

function endCodes(end: ModelEnd): number[] {
  return end.kind === 'close' ? [end.code] : end.kind === 'violation' ? end.codes : [];
}

export function describeEnd(end: ModelEnd | undefined): string {
  if (end === undefined) return 'no head';
  if (end.kind === 'close') return `close echo ${end.code}`;
  if (end.kind === 'violation') return `violation ${end.rules.join('+')} → ${end.codes.join('|')}`;
  return end.inProgress ? 'incomplete, message in progress → 1008 (slow message) or 1001' : 'incomplete → idle 1001';
}

/**
 * What went wrong in one case, judged from what was sent and what came back;
 * empty when the server behaved. Also returns how many frames reached the
 * server's frame parser (the count the long run reports).
 */
export function judge(c: Case, e: Expectation, obs: Observed, limits: Limits = LIMITS): { problems: string[]; frames: number } {
  const problems: string[] = [];
  if (obs.timedOut) problems.push('hang: the connection was not closed in time');
  if (obs.connectError !== null) problems.push(`connect failed: ${obs.connectError}`);
  if (obs.badFrame !== null) problems.push(`bad server output: ${obs.badFrame}`);
  if (obs.mismatch !== null) problems.push(`wrong reply: ${obs.mismatch}`);
  if (obs.framesAfterClose > 0) problems.push(`${obs.framesAfterClose} frame(s) after the server's Close`);
  if (obs.bytesAfterRefusal > 0) problems.push(`${obs.bytesAfterRefusal} bytes after the HTTP error response (a second response?)`);
  const total = c.head.length + c.body.length;
  const sentAll = c.ending !== 'reset' || c.resetAt >= total;
  const sentEnd = c.ending === 'reset' ? c.resetAt : total;
  const headComplete = e.headEnd >= 0 && e.headEnd <= sentEnd;
  // The model of what the server may have seen: all of it, or the prefix before a reset.
  const seen = !headComplete ? null : sentAll ? e.full : model(Buffer.concat([c.head, c.body]).subarray(e.headEnd, sentEnd), limits);
  const strict = c.ending === 'wait' && !obs.timedOut && obs.mismatch === null && obs.badFrame === null;
  let frames = 0;

  if (obs.status === null) {
    // No response: only when the head never completed (handshake timeout or EOF), or the client left first.
    const delivered = c.waitFor101 ? c.head.length : sentEnd;
    if (strict && e.headEnd >= 0 && e.headEnd <= delivered) problems.push('no HTTP response to a complete request head');
    else if (strict && delivered >= limits.maxHeaderSize) problems.push(`no 431 for ${delivered} bytes without a head end (maxHeaderSize ${limits.maxHeaderSize})`);
  } else if (obs.status !== 101) {
    if (c.headMutation === 'none') problems.push(`valid handshake refused: ${obs.responseLine}`);
    else if (!HTTP_REFUSALS.has(obs.status)) problems.push(`unexpected HTTP status: ${obs.responseLine}`);
    else if (c.expectStatus !== undefined && obs.status !== c.expectStatus) problems.push(`expected HTTP ${c.expectStatus} for ${c.headMutation}, got ${obs.responseLine}`);
  } else {
    if (c.expectStatus !== undefined) problems.push(`expected HTTP ${c.expectStatus} for ${c.headMutation}, got 101`);
    if (!headComplete || seen === null) problems.push('101 for an incomplete request head');
    else {
      if (c.headMutation === 'none' && obs.acceptValid !== true) problems.push('wrong Sec-WebSocket-Accept');
      frames = seen.frames;
      const want = seen.end;
      if (strict) {
        if (obs.replies !== seen.replies.length) problems.push(`${obs.replies} of ${seen.replies.length} replies arrived`);
        const codes = want.kind === 'incomplete' ? (want.inProgress ? [1008, 1001] : [1001]) : endCodes(want);
        if (obs.closeCode === null) problems.push(`no Close frame (expected ${describeEnd(want)})`);
        else if (!codes.includes(obs.closeCode)) problems.push(`close code ${obs.closeCode} (${obs.closeReason}), expected ${describeEnd(want)}`);
      } else if (obs.closeCode !== null && obs.mismatch === null) {
        // The client half-closed or reset: the Close is optional, but if one came it must be right.
        const codes = endCodes(want);
        if (!codes.includes(obs.closeCode)) problems.push(`close code ${obs.closeCode} (${obs.closeReason}) after ${c.ending}, expected ${describeEnd(want)}`);
      }
    }
  }
  // The harness checks itself: an injected violation must be the model's first one.
  if (c.expectCodes !== undefined && e.full !== null && c.headMutation === 'none') {
    const end = e.full.end;
    if (end.kind !== 'violation' || !c.expectCodes.some((code) => end.codes.includes(code))) {
      problems.push(`HARNESS: ${c.bodyKind} should fail with ${c.expectCodes.join('|')}, the model says ${describeEnd(end)}`);
    }
  }
  return { problems, frames };
}

// ——— the server in a child process ———

export interface ServerError {
  message: string;
  stack: string;
}

export class FuzzServer {
  port = 0;
  exited: { code: number | null; signal: string | null } | null = null;
  readonly errors: ServerError[] = [];
  stderr = '';
  private waiters: ((stats: ServerStats) => void)[] = [];
  private exitWaiters: (() => void)[] = [];
  /** Set by stop(): an exit after it is not a crash. */
  stopping = false;

  private constructor(readonly child: ChildProcess) {}

  static async start(transport: 'handle' | 'socket', options: object = SERVER_OPTIONS): Promise<FuzzServer> {
    const script = fileURLToPath(new URL('./fuzz-server.js', import.meta.url));
    const child = fork(script, [transport, JSON.stringify(options)], {
      env: { ...process.env, LIGHTWS_POOL_DEBUG: '1' },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    const server = new FuzzServer(child);
    child.stderr!.on('data', (chunk: Buffer) => {
      server.stderr = (server.stderr + chunk.toString('utf8')).slice(-20000);
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type: string; port?: number; stats?: ServerStats; message?: string; stack?: string }) => {
        if (m.type === 'ready') {
          server.port = m.port!;
          resolve();
        } else if (m.type === 'stats') server.waiters.shift()?.(m.stats!);
        else if (m.type === 'error') server.errors.push({ message: m.message!, stack: m.stack! });
      });
      child.on('exit', (code, signal) => {
        server.exited = { code, signal };
        for (const w of server.exitWaiters.splice(0)) w();
        reject(new Error(`fuzz server exited early (code ${code}, signal ${signal}): ${server.stderr}`));
      });
    });
    await ready;
    return server;
  }

  get alive(): boolean {
    return this.exited === null;
  }

  stats(timeoutMs = 10000): Promise<ServerStats> {
    if (!this.alive) return Promise.reject(new Error('the server process is gone'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not answer a stats request in time')), timeoutMs);
      this.waiters.push((stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      this.child.send({ type: 'stats' });
    });
  }

  /** Resolves when the child exits (at once if it has). */
  whenExited(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.stopping = true;
    const exited = this.whenExited();
    this.child.send({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export interface ServerStats {
  connections: number;
  handshaking: number;
  accepted: number;
  closed: number;
  protocolErrors: number;
  handlerErrors: number;
  memoryRefusals: number;
  slowConsumersClosed: number;
  handshakesRefused: number;
  opened: number;
  /** What the child's open/message/close handlers saw (fuzz-server.ts). */
  app?: { open: number; opens: number; closes: number; errorCount: number; errors: string[] };
  pool: { lentBuffers: number; lentBytes: number; peakLentBytes: number };
  [key: string]: unknown;
}

// ——— the driver ———

export interface FuzzOptions {
  seed: number;
  transport: 'handle' | 'socket';
  profile: Profile;
  /** Stop after this many frames reached the server's parser... */
  frames?: number;
  /** ...or this many cases... */
  cases?: number;
  /** ...or this long; whichever comes first. */
  durationMs?: number;
  /** Connections at once. */
  concurrency: number;
  /** Check the pool (all connections closed) every this many frames. Default: only at the end. */
  checkpointFrames?: number;
  /** A hang: a connection still open this long after it started. */
  boundMs?: number;
  /** Run exactly these case indices, one at a time (replay). */
  only?: number[];
  progress?: (p: Progress) => void;
  progressEveryMs?: number;
  /** Keep at most this many failure details. */
  maxFailures?: number;
}

export interface Progress {
  cases: number;
  frames: number;
  bytes: number;
  failures: number;
  elapsedMs: number;
}

export interface Failure {
  index: number;
  problems: string[];
  replay: string;
  detail: Record<string, unknown>;
}

export interface Checkpoint {
  afterCases: number;
  afterFrames: number;
  connections: number;
  handshaking: number;
  lentBuffers: number;
  lentBytes: number;
  accepted: number;
  closed: number;
}

export interface FuzzSummary {
  seed: number;
  transport: string;
  profile: Profile;
  cases: number;
  /** Frames that reached the server's frame parser (valid and invalid). */
  frames: number;
  /** Frames the generator wrote (including those after a violation, which the server ignores). */
  framesGenerated: number;
  bytesSent: number;
  closeCodes: Record<string, number>;
  httpStatuses: Record<string, number>;
  endings: Record<string, number>;
  bodyKinds: Record<string, number>;
  failures: Failure[];
  failureCount: number;
  /** Every problem, numbers blanked out, counted: the shape of the failures at a glance. */
  problemKinds: Record<string, number>;
  crashed: { code: number | null; signal: string | null; stderr: string } | null;
  serverErrors: ServerError[];
  checkpoints: Checkpoint[];
  finalStats: ServerStats | null;
  alive: boolean;
  durationMs: number;
  slowestCaseMs: number;
  /** The client's worst event-loop stall: timing failures (1001 instead of a code, no 101) near it may be the client's. */
  maxClientLagMs: number;
}

function bump(h: Record<string, number>, key: string): void {
  h[key] = (h[key] ?? 0) + 1;
}

export function replayCommand(o: Pick<FuzzOptions, 'seed' | 'profile' | 'transport'>, index: number): string {
  return `node dist/test/fuzz/long-run.js --seed ${o.seed} --profile ${o.profile} --transport ${o.transport} --case ${index}`;
}

function caseDetail(c: Case, e: Expectation, obs: Observed): Record<string, unknown> {
  return {
    head: { mutation: c.headMutation, bytes: c.head.length, firstLine: c.head.toString('latin1', 0, Math.min(80, Math.max(0, c.head.indexOf('\r\n')))) },
    body: { kind: c.bodyKind, bytes: c.body.length, framesGenerated: c.framesGenerated },
    delivery: c.delivery,
    waitFor101: c.waitFor101,
    ending: c.ending,
    resetAt: c.ending === 'reset' ? c.resetAt : undefined,
    echoClose: c.echoClose,
    expected: { status: c.expectStatus, headEnd: e.headEnd, end: describeEnd(e.full?.end), replies: e.full?.replies.length },
    observed: {
      response: obs.responseLine, replies: obs.replies, closeCode: obs.closeCode, closeReason: obs.closeReason,
      mismatch: obs.mismatch, badFrame: obs.badFrame, timedOut: obs.timedOut, bytesWritten: obs.bytesWritten, ms: obs.ms,
    },
  };
}

/** Runs the fuzzer against a fresh server child and returns what happened. Never throws on a server failure. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const pools = makePools(o.seed);
  const server = await FuzzServer.start(o.transport);
  const boundMs = o.boundMs ?? 30000;
  const maxFailures = o.maxFailures ?? 50;
  const summary: FuzzSummary = {
    seed: o.seed, transport: o.transport, profile: o.profile, cases: 0, frames: 0, framesGenerated: 0, bytesSent: 0,
    closeCodes: {}, httpStatuses: {}, endings: {}, bodyKinds: {}, failures: [], failureCount: 0, problemKinds: {}, crashed: null,
    serverErrors: server.errors, checkpoints: [], finalStats: null, alive: true, durationMs: 0, slowestCaseMs: 0, maxClientLagMs: 0,
  };
  let lastBeat = Date.now();
  const lagMonitor = setInterval(() => {
    const now = Date.now();
    summary.maxClientLagMs = Math.max(summary.maxClientLagMs, now - lastBeat - 100);
    lastBeat = now;
  }, 100);
  const fail = (index: number, problems: string[], detail: Record<string, unknown>): void => {
    summary.failureCount++;
    for (const p of problems) bump(summary.problemKinds, p.replace(/\(.*?\)/g, '').replace(/\d+/g, 'N').slice(0, 120));
    if (summary.failures.length < maxFailures) summary.failures.push({ index, problems, replay: replayCommand(o, index), detail });
  };
  let crashed = false;
  // Upper bounds for the server's counters: a connection is refused or opened at most once.
  let mayBeRefused = 0;
  let mayBeOpened = 0;
  let appOpenReported = 0;
  let appErrorsReported = 0;
  void server.whenExited().then(() => {
    if (server.stopping) return;
    crashed = true;
    summary.crashed = { ...server.exited!, stderr: server.stderr };
  });

  const runOne = async (index: number): Promise<void> => {
    const c = generateCase(o.seed, index, pools, o.profile);
    const e = expectationOf(c);
    const obs = await runCase(server.port, c, e.full, boundMs);
    if (crashed) return;
    const { problems, frames } = judge(c, e, obs);
    summary.cases++;
    summary.frames += frames;
    summary.framesGenerated += c.framesGenerated;
    summary.bytesSent += obs.bytesWritten;
    summary.slowestCaseMs = Math.max(summary.slowestCaseMs, obs.ms);
    bump(summary.bodyKinds, c.bodyKind.replace(/:.*/, ''));
    bump(summary.endings, c.ending);
    if (obs.status === null || obs.status !== 101) mayBeRefused++;
    if (obs.status === null || obs.status === 101) mayBeOpened++;
    if (obs.status === null) bump(summary.httpStatuses, 'none');
    else bump(summary.httpStatuses, String(obs.status));
    if (obs.status === 101) {
      const code = obs.closeCode;
      bump(summary.closeCodes, code === null ? 'none (client ended first)' : code >= 3000 ? '3000-4999 (echoed)' : String(code));
    }
    if (problems.length > 0) fail(index, problems, caseDetail(c, e, obs));
  };

  const checkpoint = async (caseIndex = -1): Promise<void> => {
    if (crashed) return;
    // Every client socket is closed; give the server a moment to see the last EOFs.
    let stats: ServerStats | null = null;
    const deadline = Date.now() + 15000;
    try {
      for (;;) {
        stats = await server.stats();
        if ((stats.connections === 0 && stats.handshaking === 0 && stats.pool.lentBuffers === 0) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } catch (error) {
      if (!crashed) fail(-1, [`stats: ${(error as Error).message}`], {});
      return;
    }
    const cp: Checkpoint = {
      afterCases: summary.cases, afterFrames: summary.frames, connections: stats.connections, handshaking: stats.handshaking,
      lentBuffers: stats.pool.lentBuffers, lentBytes: stats.pool.lentBytes, accepted: stats.accepted, closed: stats.closed,
    };
    summary.checkpoints.push(cp);
    summary.finalStats = stats;
    const problems: string[] = [];
    if (stats.connections !== 0 || stats.handshaking !== 0) problems.push(`server still holds ${stats.connections} open + ${stats.handshaking} handshaking connections after every client closed`);
    if (stats.pool.lentBuffers !== 0) problems.push(`pool leak: ${stats.pool.lentBuffers} buffers (${stats.pool.lentBytes} B) still lent with no connection`);
    if (stats.accepted !== stats.closed) problems.push(`accepted ${stats.accepted} but closed ${stats.closed}`);
    if (stats.handshakesRefused > mayBeRefused) problems.push(`handshakesRefused ${stats.handshakesRefused} but at most ${mayBeRefused} connections can have been refused: some were refused more than once`);
    if (stats.opened > mayBeOpened) problems.push(`opened ${stats.opened} but at most ${mayBeOpened} connections got a 101 or no answer`);
    const app = stats.app;
    if (app !== undefined) {
      if (app.open > appOpenReported) {
        problems.push(`the open handler ran for ${app.open - appOpenReported} more connection(s) whose close handler never ran (the server holds none)`);
        appOpenReported = app.open;
      }
      if (app.errorCount > appErrorsReported) {
        problems.push(`handler lifecycle broken ${app.errorCount - appErrorsReported} time(s): ${app.errors.join('; ')}`);
        appErrorsReported = app.errorCount;
      }
    }
    if (problems.length > 0) fail(caseIndex, problems, { checkpoint: cp });
  };

  let lastProgress = Date.now();
  const report = (force = false): void => {
    if (o.progress === undefined) return;
    const now = Date.now();
    if (!force && now - lastProgress < (o.progressEveryMs ?? 5000)) return;
    lastProgress = now;
    o.progress({ cases: summary.cases, frames: summary.frames, bytes: summary.bytesSent, failures: summary.failureCount, elapsedMs: now - started });
  };

  try {
    if (o.only !== undefined) {
      for (const index of o.only) {
        await runOne(index);
        await checkpoint(index);
      }
    } else {
      let next = 0;
      const framesLimit = o.frames ?? Infinity;
      const casesLimit = o.cases ?? Infinity;
      const endAt = o.durationMs === undefined ? Infinity : started + o.durationMs;
      const more = (): boolean => !crashed && summary.frames < framesLimit && next < casesLimit && Date.now() < endAt;
      while (more()) {
        const roundEnd = o.checkpointFrames === undefined ? framesLimit : summary.frames + o.checkpointFrames;
        const lane = async (): Promise<void> => {
          while (more() && summary.frames < roundEnd) {
            await runOne(next++);
            report();
          }
        };
        await Promise.all(Array.from({ length: o.concurrency }, lane));
        await checkpoint();
        report(true);
      }
    }
  } finally {
    clearInterval(lagMonitor);
    summary.alive = server.alive && !crashed;
    await server.stop();
    summary.durationMs = Date.now() - started;
  }
  if (summary.crashed !== null) fail(-1, [`server process died: code ${summary.crashed.code}, signal ${summary.crashed.signal}`], { stderr: summary.crashed.stderr });
  for (const error of server.errors) fail(-1, [`server reported an error: ${error.message}`], { stack: error.stack });
  return summary;
}

/** A compact, printable summary. */
export function formatSummary(s: FuzzSummary): string {
  const sorted = (h: Record<string, number>): string =>
    Object.entries(h)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const last = s.finalStats;
  const lines = [
    `lightws fuzz — seed ${s.seed}, transport ${s.transport}, profile ${s.profile}`,
    `  duration           ${(s.durationMs / 1000).toFixed(1)} s (slowest connection ${(s.slowestCaseMs / 1000).toFixed(1)} s, worst client event-loop lag ${s.maxClientLagMs} ms)`,
    `  frames             ${s.frames.toLocaleString('en-US')} parsed by the server (${s.framesGenerated.toLocaleString('en-US')} generated), ${Math.round(s.frames / (s.durationMs / 1000)).toLocaleString('en-US')} frames/s`,
    `  bytes sent         ${(s.bytesSent / 1048576).toFixed(1)} MiB`,
    `  connections        ${s.cases.toLocaleString('en-US')} (bodies: ${sorted(s.bodyKinds)}; client endings: ${sorted(s.endings)})`,
    `  HTTP statuses      ${sorted(s.httpStatuses)}`,
    `  close codes        ${sorted(s.closeCodes)}`,
    `  crashes            ${s.crashed === null ? 0 : `1 (code ${s.crashed.code}, signal ${s.crashed.signal})`}; server process alive at the end: ${s.alive}`,
    `  server errors      ${s.serverErrors.length}`,
    `  pool checkpoints   ${s.checkpoints.length}, lentBuffers at each: ${s.checkpoints.map((c) => c.lentBuffers).join(',') || '-'}`,
    `  final server state ${last === null ? '-' : `connections ${last.connections}, handshaking ${last.handshaking}, pool.lentBuffers ${last.pool.lentBuffers}, pool.lentBytes ${last.pool.lentBytes}, peakLentBytes ${last.pool.peakLentBytes}, accepted ${last.accepted}, closed ${last.closed}, opened ${last.opened}, handshakesRefused ${last.handshakesRefused}, protocolErrors ${last.protocolErrors}`}`,
    `  failures           ${s.failureCount}${s.failureCount === 0 ? '' : ` — ${sorted(s.problemKinds)}`}`,
  ];
  for (const f of s.failures) {
    lines.push(`  ✗ case ${f.index}: ${f.problems.join('; ')}`);
    if (f.index >= 0) lines.push(`      replay: ${f.replay}`);
    lines.push(`      ${JSON.stringify(f.detail)}`);
  }
  return lines.join('\n');
}
