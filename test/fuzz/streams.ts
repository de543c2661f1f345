/**
 * Frame streams for the fuzz generator: valid traffic (messages, fragments,
 * control frames, Close), injected violations whose close code is known, and
 * mutations whose effect only the model works out from the bytes.
 */
import { encodeFrame, type FrameSpec } from './encode.js';
import { FREE_FRAGMENTS, type Limits } from './limits.js';
import { binSlice, payloadSize, textSlice, textUpTo, TRUNCATED_UTF8, withInvalidUtf8, type Pools } from './pools.js';
import type { Rng } from './rng.js';

export type Profile = 'ci' | 'long';

/** The rule an injected violation breaks, and the code(s) it must get. */
export const KNOWN_VIOLATIONS = {
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
  'fragments-too-small': [1008],
  'bad-utf8-text': [1007],
  'bad-utf8-fragment': [1007],
  'truncated-utf8-end': [1007],
  'close-1-byte': [1002],
  'close-bad-code': [1002],
  'close-bad-reason': [1007],
} as const;
export type KnownViolation = keyof typeof KNOWN_VIOLATIONS;
export const KNOWN_NAMES = Object.keys(KNOWN_VIOLATIONS) as KnownViolation[];

export type UnknownMutation = 'bitflip' | 'length-lie' | 'truncate' | 'random-frames' | 'random-bytes';
export const UNKNOWN_NAMES: readonly UnknownMutation[] = [
  'bitflip',
  'length-lie',
  'truncate',
  'random-frames',
  'random-bytes',
];

const VALID_CLOSE_CODES = [
  1000, 1000, 1000, 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];
const INVALID_CLOSE_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

/** Builds a frame stream, tracking the message in progress so that valid frames stay valid. */
export class StreamBuilder {
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
    if (k < 0.33)
      this.frame({
        opcode: 1,
        payload: textSlice(r, this.pools, Math.min(payloadSize(r), this.limits.maxMessageSize - 3)),
      });
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

  /** Opens a fragmented message: the whole message, cut into 2..fragmentsPerMessage pieces at any byte. */
  startFragmented(opcode: number, fragments?: number): void {
    const r = this.r;
    const max = this.limits.maxMessageSize;
    const size = Math.min(max - 3, r.chance(0.9) ? payloadSize(r) * 2 : r.range(max / 2, max - 3));
    const message = opcode === 1 ? textSlice(r, this.pools, size) : binSlice(r, this.pools, size);
    const count = fragments ?? r.range(2, this.limits.fragmentsPerMessage);
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
        this.frame({
          ...(r.chance(0.3) ? { opcode: r.pick([8, 9, 10]), fin: true } : this.dataSlot()),
          payload: binSlice(r, pools, r.int(126)),
          rsv: r.range(1, 7),
        });
        break;
      case 'reserved-opcode':
        this.frame({
          opcode: r.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]),
          payload: binSlice(r, pools, payloadSize(r)),
          fin: r.chance(0.8),
        });
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
            encodeFrame(r, {
              ...this.dataSlot(),
              payload: Buffer.alloc(0),
              form: 64,
              declared: r.u32(),
              declaredHigh: (0x80000000 | r.u32()) >>> 0,
            }),
            binSlice(r, pools, r.int(64)),
          ]),
        );
        break;
      case 'oversize-frame': {
        const declared = r.chance(0.5)
          ? max + r.range(1, 1000)
          : r.pick([2 ** 32, 2 ** 40, 2 ** 53 - 1, 0x7fffffff * 2 ** 32]);
        const slot = this.dataSlot();
        if (r.chance(0.2) && declared <= max + 1000) {
          this.frame({ ...slot, payload: binSlice(r, pools, declared) }); // the whole payload, for once
        } else {
          // Only the header and a little: the server must refuse it on the header alone.
          this.add(
            Buffer.concat([
              encodeFrame(r, { ...slot, payload: Buffer.alloc(0), form: 64, declared }),
              binSlice(r, pools, r.int(300)),
            ]),
          );
        }
        break;
      }
      case 'oversize-message': {
        // Binary, so that filler fragments cannot break UTF-8 first.
        if (this.pending !== null && this.pending.opcode === 1) this.finishOpen();
        if (this.pending === null) this.startFragmented(2, r.range(3, this.limits.fragmentsPerMessage));
        if (this.pending === null) this.frame({ opcode: 2, payload: Buffer.alloc(1), fin: false });
        // Fill up to near the limit, then one continuation over it.
        let room = max - this.openLength;
        if (room > 5000 && this.openFragments < this.limits.fragmentsPerMessage - 2) {
          const n = room - r.range(1, 4000);
          this.frame({ opcode: 0, payload: binSlice(r, pools, n), fin: false });
          this.openFragments++;
          room -= n;
        }
        const over = room + r.range(1, 3000);
        if (over <= 70000 && r.chance(0.7))
          this.frame({ opcode: 0, payload: binSlice(r, pools, over), fin: r.chance(0.5) });
        else this.add(encodeFrame(r, { opcode: 0, payload: Buffer.alloc(0), declared: over, fin: r.chance(0.5) }));
        break;
      }
      case 'fragments-too-small': {
        // An empty-fragment flood: past the free fragments, they average under minFragmentSize.
        this.finishOpen(); // a fresh message, so no earlier bytes raise its average
        this.frame({ opcode: 2, payload: Buffer.alloc(0), fin: false });
        this.pending = null;
        const count = FREE_FRAGMENTS + r.range(1, 40);
        for (let i = 0; i < count; i++) {
          if (r.chance(0.002)) this.control();
          this.frame({ opcode: 0, payload: Buffer.alloc(0), fin: false });
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
            kindOfPayload === 0
              ? binSlice(r, pools, size)
              : kindOfPayload === 1
                ? textSlice(r, pools, size)
                : kindOfPayload === 2
                  ? withInvalidUtf8(r, pools, size >> 1)
                  : Buffer.alloc(size);
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
