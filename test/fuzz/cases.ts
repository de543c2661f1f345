/**
 * One fuzz case: a handshake, a frame stream, and how the client delivers and
 * ends it, all drawn from the case's own seed.
 */
import { joinHead, planHead, requestLines } from './handshakes.js';
import { LIMITS, type Limits } from './limits.js';
import { binSlice, type Pools } from './pools.js';
import { caseSeed, Rng } from './rng.js';
import { KNOWN_NAMES, KNOWN_VIOLATIONS, StreamBuilder, UNKNOWN_NAMES, type Profile } from './streams.js';

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

export function generateCase(
  seed: number,
  index: number,
  pools: Pools,
  profile: Profile,
  limits: Limits = LIMITS,
): Case {
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
      ? r.weighted([
          ['wait', 82],
          ['halfclose', 6],
          ['reset', 12],
        ] as const)
      : r.weighted([
          ['wait', profile === 'ci' ? 25 : 40],
          ['halfclose', 35],
          ['reset', 30],
        ] as const);
  const resetAt =
    ending !== 'reset'
      ? total
      : body.length > 0 && r.chance(0.7)
        ? plan.head.length + r.int(body.length + 1)
        : r.int(total + 1);
  const delivery: Delivery = r.weighted([
    ['bulk', 70],
    ['chunks', 24],
    ['trickle', 6],
  ] as const);
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
