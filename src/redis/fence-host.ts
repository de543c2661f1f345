import type { OriginId } from './envelope.js';

/** How long a handover waits for its fence (handover-fence.ts) before each side goes on without it. */
export const FENCE_WAIT_MS = 5000;

/**
 * What the Redis bridge gives its side of a handover (handover-forward.ts in
 * the old process, handover-fence.ts in the new one): its subscriptions, its
 * ordered publish path, and local delivery of an envelope as it came.
 */
export interface FenceHost {
  /** `<prefix>f`: where a handover's fence is published; subscribed only during one. */
  readonly fenceChannel: string;
  /** This server's id in its envelopes now. */
  origin(): OriginId;
  subscribeChannel(channel: string): void;
  unsubscribeChannel(channel: string): void;
  /** Whether a local subscriber wants `channel` (the broadcast channel always). */
  wanted(channel: string): boolean;
  /** The last SUBSCRIBE sent (Redis answers in order: once it is acknowledged, every one before it is); never rejects. */
  lastSubscription(): Promise<unknown>;
  /** Publishes an envelope behind every publish before it (the outbox, in order). */
  publishEnvelope(channel: string, message: Buffer): void;
  /** Delivers an envelope to the local subscribers (those `keep` accepts), checked and counted as received. */
  dispatch(channel: string, message: Buffer, keep?: (conn: object) => boolean): void;
  /** The old process: from now its publishes carry a new id (those with the old one were all forwarded). */
  renewOrigin(): void;
  /** A handover's fence did not come in time, or the other process went first: counted in the stats. */
  fellBack(why: string): void;
  /** The side is done: the bridge forgets it. */
  done(): void;
  log(level: 'warn' | 'debug', message: string): void;
  /** Whether an envelope is one of this server's own publishes (under any id it had). */
  ours(message: Buffer): boolean;
}

/** A body between the two bridges (handover-bridge messages), envelopes in base64. */
export type FenceBody =
  /** Down: a publish made here (`local`), one received from Redis (`stream`), one of the new process's back (`back`). */
  | { s: 'local' | 'stream' | 'back'; c: string; m: string; n?: number }
  /** Down: every connection has passed. */
  | { s: 'passed' }
  /** Down: the fence came here, and everything before it is forwarded. */
  | { s: 'fence-seen' }
  /** Up: a publish of the new process, for the connections it adopted (numbered `n`). */
  | { s: 'own'; c: string; m: string; n: number }
  /** Up: subscribe to `c` too until the fence (the new process has a subscriber there). */
  | { s: 'subscribe'; c: string }
  /** Up: the fence is published, with this id; no publish comes up after it. */
  | { s: 'fence'; id: string };

/** The body's fields a side reads, or null when it is not one of ours. */
export function readBody(body: object): FenceBody | null {
  const b = body as Partial<Record<string, unknown>>;
  if (typeof b.s !== 'string') return null;
  if ((b.c !== undefined && typeof b.c !== 'string') || (b.m !== undefined && typeof b.m !== 'string')) return null;
  return b as FenceBody;
}

export function wire(message: Buffer): string {
  return message.toString('base64');
}

export function unwire(text: string): Buffer {
  return Buffer.from(text, 'base64');
}
