/**
 * A recording FenceHost and BridgeLink for the unit tests of the Redis bridge's handover sides
 * (test/redis/handover-fence.test.ts, handover-forward.test.ts): what they subscribe, publish,
 * deliver and send, with the acknowledgement of the last SUBSCRIBE in the test's hands.
 */
import type { BridgeLink } from '../../src/handover/bridge-handover.js';
import { encodeEnvelope, HEADER_BYTES, OriginId } from '../../src/redis/envelope.js';
import type { FenceBody, FenceHost } from '../../src/redis/fence-host.js';

export const FENCE = 'p:f';

export function originId(byte: number): OriginId {
  return new OriginId(new Uint8Array(8).fill(byte));
}

/** An envelope of `origin` with a text payload. */
export function envelope(origin: OriginId, text: string): Buffer {
  return encodeEnvelope(origin, text, false);
}

export function fakeSide(origin: OriginId) {
  const rec = {
    origin,
    subscribed: [] as string[],
    unsubscribed: [] as string[],
    published: [] as { channel: string; text: string }[],
    /** Delivered here: `${channel} ${payload}`, with `adopted` when only to the connections a filter accepts. */
    delivered: [] as string[],
    fellBack: [] as string[],
    renewed: 0,
    done: 0,
    wanted: new Set<string>(),
    sent: [] as FenceBody[],
    localOnly: null as ((conn: object) => boolean) | null,
    /** Acknowledges the oldest SUBSCRIBE not acknowledged yet (Redis answers in order). */
    acknowledge: () => void unanswered.shift()?.(),
  };
  const unanswered: (() => void)[] = [];
  let last: Promise<unknown> = Promise.resolve();
  const subscribe = (channel: string): void => {
    rec.subscribed.push(channel);
    last = new Promise<void>((resolve) => unanswered.push(resolve));
  };
  const host: FenceHost = {
    fenceChannel: FENCE,
    origin: () => rec.origin,
    subscribeChannel: subscribe,
    unsubscribeChannel: (channel) => void rec.unsubscribed.push(channel),
    wanted: (channel) => rec.wanted.has(channel),
    lastSubscription: () => last,
    publishEnvelope: (channel, message) =>
      void rec.published.push({ channel, text: message.subarray(HEADER_BYTES).toString() }),
    dispatch: (channel, message, keep) =>
      void rec.delivered.push(
        `${channel} ${message.subarray(HEADER_BYTES).toString()}${keep === undefined ? '' : ' adopted'}`,
      ),
    renewOrigin: () => {
      rec.renewed++;
      rec.origin = originId(0xee);
    },
    fellBack: (why) => void rec.fellBack.push(why),
    done: () => void rec.done++,
    log: () => {},
    ours: (message) => rec.origin.isIn(message),
  };
  const link: BridgeLink = {
    send: (body) => void rec.sent.push(body as FenceBody),
    localOnly: (keep) => void (rec.localOnly = keep),
    deliverSome: () => {},
  };
  return { rec, host, link };
}

/** The text inside a body's base64 envelope. */
export function textOf(body: FenceBody): string {
  return 'm' in body ? Buffer.from(body.m, 'base64').subarray(HEADER_BYTES).toString() : '';
}

export function wired(message: Buffer): string {
  return message.toString('base64');
}
