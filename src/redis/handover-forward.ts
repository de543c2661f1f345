import type { BridgeHandover, BridgeLink } from '../handover/bridge-handover.js';
import type { OriginId } from './envelope.js';
import { FENCE_WAIT_MS, readBody, unwire, wire, type FenceHost } from './fence-host.js';

/**
 * The old process's Redis bridge during a handover. Both processes receive
 * Redis pub/sub independently, and a connection moves between them: so until
 * the fence (handover-fence.ts), this side is the only one that delivers, and
 * it forwards down the handover channel, behind the connections sent before:
 *
 * - its own publishes, at publish time (`local`): delivered here at once, as
 *   always, and behind every connection that left before;
 * - every message its subscriber receives from Redis (`stream`), in Redis's
 *   order, delivered here too: a subscriber has it from here while it is
 *   here, from the new process once it has moved, never from both;
 * - the new process's own publishes, which it sends up (`own`) instead of
 *   reaching its adopted connections directly: delivered here and sent back
 *   down (`back`), so that one in flight gets it in its place. Their copy
 *   from Redis is dropped here.
 *
 * No subscription is left meanwhile (the last local subscriber of a topic
 * moving away must not end its stream before the fence), and the new process
 * may ask for more (`subscribe`). The new process publishes the fence once
 * every connection has passed; when it comes here, forwarding stops there,
 * and this server's publishes carry a new id from then on: the new process
 * drops every one with the old id from its own stream (it had them all from
 * here), and takes those with the new one from Redis, after the fence.
 */
export class HandoverForward implements BridgeHandover {
  /** Kept subscribed though no local subscriber wants them now (or asked for by the new process), until the end. */
  readonly held = new Set<string>();
  /** The fence came to our subscriber: nothing after it is forwarded. */
  private fenceSeen = false;
  /** The new process published the fence: every `own` before it has come up. */
  private fenceSent = false;
  private over = false;
  private finished: (() => void) | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: FenceHost,
    private readonly link: BridgeLink,
    /** The new process's id: its publishes come up the channel, not from Redis. */
    private readonly successor: OriginId,
  ) {
    host.subscribeChannel(host.fenceChannel);
  }

  /** Whether this server's publishes go down the channel as they are made. */
  get forwarding(): boolean {
    return !this.over && !this.fenceSeen;
  }

  /** A publish made here (already delivered here): down, behind the connections. */
  published(channel: string, message: Buffer): void {
    if (this.forwarding) this.link.send({ s: 'local', c: channel, m: wire(message) });
  }

  /** A message from our subscriber (not our own echo): false when it must not be delivered here either. */
  stream(channel: string, message: Buffer): boolean {
    if (this.over) return true;
    if (channel === this.host.fenceChannel) {
      if (this.successor.isIn(message) && !this.fenceSeen) {
        this.fenceSeen = true;
        this.host.renewOrigin();
        this.settle();
      }
      return false;
    }
    if (this.fenceSeen) return true; // after the fence: the new process has it from its own subscriber
    if (this.successor.isIn(message)) return false; // it came up the channel (`own`), in its place
    this.link.send({ s: 'stream', c: channel, m: wire(message) });
    return true;
  }

  received(raw: object): void {
    const body = readBody(raw);
    if (body === null || this.over) return;
    if (body.s === 'own') {
      const message = unwire(body.m);
      this.host.dispatch(body.c, message);
      this.link.send({ s: 'back', c: body.c, m: body.m, n: body.n });
    } else if (body.s === 'subscribe') {
      if (this.fenceSeen || this.held.has(body.c) || this.host.wanted(body.c)) return;
      this.held.add(body.c);
      this.host.subscribeChannel(body.c);
    } else if (body.s === 'fence') {
      this.fenceSent = true;
      this.settle();
    }
  }

  adopted(): void {}

  /** Every connection has passed: the new process may publish the fence. */
  finish(): Promise<void> {
    if (this.over) return Promise.resolve();
    this.link.send({ s: 'passed' });
    return new Promise<void>((resolve) => {
      this.finished = resolve;
      this.timer = setTimeout(() => {
        this.host.fellBack(`the handover's fence did not come within ${FENCE_WAIT_MS} ms`);
        this.end();
      }, FENCE_WAIT_MS);
    });
  }

  ended(): void {
    this.end();
  }

  /** Both the fence and the new process's word that it published it: everything before is down. */
  private settle(): void {
    if (!this.fenceSeen || !this.fenceSent || this.over) return;
    this.link.send({ s: 'fence-seen' });
    this.end();
  }

  private end(): void {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.timer);
    // Not forwarded from now: they must reach the new process from Redis, under an id it does not drop.
    if (!this.fenceSeen) this.host.renewOrigin();
    for (const channel of this.held) if (!this.host.wanted(channel)) this.host.unsubscribeChannel(channel);
    this.held.clear();
    this.host.unsubscribeChannel(this.host.fenceChannel);
    this.host.done();
    this.finished?.();
  }
}
