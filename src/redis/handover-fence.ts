import { randomBytes } from 'node:crypto';
import type { BridgeHandover, BridgeLink } from '../handover/bridge-handover.js';
import { encodeEnvelope, HEADER_BYTES } from './envelope.js';
import { FENCE_WAIT_MS, readBody, unwire, wire, type FenceHost } from './fence-host.js';

/** A message from our own subscriber kept until the switch (after our fence). */
interface Kept {
  channel: string;
  message: Buffer;
}

/**
 * The new process's Redis bridge during a handover: a follower. Its own
 * subscriber receives every topic it has subscribers on, but until the
 * fence it delivers only what the old process forwards (handover-forward.ts),
 * which reaches the adopted connections behind their arrival: each message
 * exactly once, in order, whether a subscriber was there, in flight or here.
 *
 * The fence is a cut point both processes see in the same place: Redis
 * delivers every PUBLISH to every subscriber connection in one global order.
 * Once the old process has passed its last connection, this one waits until
 * each of its SUBSCRIBEs is acknowledged (its stream is then complete from
 * the fence on), publishes the fence (an envelope of its own on
 * `<prefix>f`, whose payload is a random id) through its publisher, behind
 * every publish it made, and says so up the channel. The old process forwards
 * all it received before the fence, then `fence-seen`; this one drops from
 * its own stream everything before its fence and, once `fence-seen` is here,
 * delivers what came after it, and from then on as without a handover.
 *
 * Its own publishes meanwhile reach the connections it created at once, but
 * not those it adopted (`localOnly`): those get them from the old process,
 * sent up and back (`own`, `back`), in their place among what it forwards;
 * one made after the fence waits here until everything sent up is back.
 * A topic first subscribed here after the fence was published may reach
 * Redis after the fence (its SUBSCRIBE and the fence's PUBLISH go on two
 * connections), so what the old process forwards of it is dropped too: that
 * subscription starts after the fence, with nothing missed in between.
 *
 * Without the fence in time (FENCE_WAIT_MS after publishing it), or when the
 * old process goes first, this side switches to its own stream anyway,
 * counted (`handoverFallbacks`): around the switch a message may be missed
 * or, from a publish forwarded late, repeated.
 */
export class HandoverFence implements BridgeHandover {
  private readonly adoptedSet = new WeakSet<object>();
  /** Not unsubscribed during the handover (the stream must stay whole across the fence); left at the switch. */
  readonly held = new Set<string>();
  /** Subscribed after the fence was published: what the old process forwards of them is dropped. */
  private readonly late = new Set<string>();
  private fenceId: string | null = null;
  /** Our fence came to our own subscriber: what follows it is kept for the switch. */
  private fenceHere = false;
  /** The old process forwarded all it had before the fence. */
  private fenceThere = false;
  private switched = false;
  private kept: Kept[] = [];
  private keptBytes = 0;
  /** Our publishes after the fence, for the adopted connections once everything sent up is back. */
  private queued: Kept[] = [];
  /** Our publishes sent up (numbered), and the number of the last one back. */
  private sentUp = 0;
  private cameBack = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: FenceHost,
    private readonly link: BridgeLink,
    /** Kept publishes beyond this many bytes drop the oldest (counted): the wait is bounded by FENCE_WAIT_MS too. */
    private readonly maxKeptBytes: number,
    private readonly drop: (payloadBytes: number) => void,
  ) {
    const adopted = this.adoptedSet;
    link.localOnly((conn) => !adopted.has(conn));
    host.subscribeChannel(host.fenceChannel);
  }

  /** Whether our own subscriber's messages wait (true: `stream` takes them). */
  get following(): boolean {
    return !this.switched;
  }

  adopted(conn: object): void {
    this.adoptedSet.add(conn);
  }

  /** A publish made here (delivered to the connections made here): for the adopted ones, through the old process. */
  published(channel: string, message: Buffer): void {
    if (this.fenceThere || this.switched) return; // they are in step already
    if (this.fenceId === null) this.link.send({ s: 'own', c: channel, m: wire(message), n: ++this.sentUp });
    else this.queued.push({ channel, message });
  }

  /** A channel gains its first local subscriber here. */
  opened(channel: string): void {
    if (this.switched) return;
    if (this.fenceId === null) this.link.send({ s: 'subscribe', c: channel });
    else this.late.add(channel);
  }

  /** A message from our own subscriber (not our echo): taken here until the switch. */
  stream(channel: string, message: Buffer): void {
    if (channel === this.host.fenceChannel) {
      if (this.fenceId !== null && this.host.origin().isIn(message) && idOf(message) === this.fenceId) {
        this.fenceHere = true;
        this.kept = []; // before the fence: the old process forwarded those
        this.keptBytes = 0;
        this.settle();
      }
      return;
    }
    if (!this.fenceHere) return; // before our fence: the old process forwards it
    this.kept.push({ channel, message });
    this.keptBytes += message.length;
    while (this.keptBytes > this.maxKeptBytes && this.kept.length > 0) {
      const oldest = this.kept.shift()!;
      this.keptBytes -= oldest.message.length;
      this.drop(oldest.message.length - HEADER_BYTES);
    }
  }

  received(raw: object): void {
    const body = readBody(raw);
    if (body === null || this.switched) return;
    switch (body.s) {
      case 'local':
        return this.host.dispatch(body.c, unwire(body.m));
      case 'stream': {
        const message = unwire(body.m);
        // A topic subscribed late starts after the fence; ours (made before we took part) we delivered ourselves.
        if (this.late.has(body.c) || (message.length >= HEADER_BYTES && this.host.ours(message))) return;
        return this.host.dispatch(body.c, message);
      }
      case 'back': {
        this.cameBack = Math.max(this.cameBack, body.n ?? 0);
        const adopted = this.adoptedSet;
        return this.host.dispatch(body.c, unwire(body.m), (conn) => adopted.has(conn));
      }
      case 'passed':
        return void this.publishFence();
      case 'fence-seen':
        this.fenceThere = true;
        this.inStep();
        return this.settle();
    }
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }

  /** The channel ended: without `fence-seen`, nothing more comes from the old process. */
  ended(): void {
    if (this.switched) return;
    if (!this.fenceThere) return this.fallBack('the old process ended the handover before the fence');
    // Our own fence is still on its way: the timer bounds the wait.
  }

  private async publishFence(): Promise<void> {
    // Every subscription of ours acknowledged, those made meanwhile too: our stream is whole from the fence on.
    // (Checked and published in one turn: a topic opened after is `late`.)
    for (let last = this.host.lastSubscription(); ;) {
      await last;
      if (last === (last = this.host.lastSubscription())) break;
    }
    if (this.switched || this.fenceId !== null) return;
    const id = randomBytes(8).toString('hex');
    this.fenceId = id;
    this.host.publishEnvelope(this.host.fenceChannel, encodeEnvelope(this.host.origin(), id, false));
    this.link.send({ s: 'fence', id });
    this.timer = setTimeout(
      () => this.fallBack(`the handover's fence did not come within ${FENCE_WAIT_MS} ms`),
      FENCE_WAIT_MS,
    );
  }

  /** Every publish sent up is back: those made since go to the adopted connections, and ours reach everyone again. */
  private inStep(): void {
    const adopted = this.adoptedSet;
    for (const { channel, message } of this.queued) this.host.dispatch(channel, message, (conn) => adopted.has(conn));
    this.queued = [];
    this.link.localOnly(null);
  }

  private settle(): void {
    if (this.fenceHere && this.fenceThere) this.switchOver();
  }

  private fallBack(why: string): void {
    if (this.switched) return;
    const lost = this.sentUp - this.cameBack;
    this.host.fellBack(lost > 0 ? `${why} (${lost} own publishes did not come back for the adopted connections)` : why);
    if (!this.fenceThere) this.inStep();
    this.switchOver();
  }

  /** From here on, our own stream: what came after the fence first. */
  private switchOver(): void {
    this.switched = true;
    clearTimeout(this.timer);
    for (const channel of this.held) if (!this.host.wanted(channel)) this.host.unsubscribeChannel(channel);
    this.held.clear();
    this.host.unsubscribeChannel(this.host.fenceChannel);
    const kept = this.kept;
    this.kept = [];
    this.host.done();
    for (const { channel, message } of kept) this.host.dispatch(channel, message);
  }
}

/** The fence's id: its payload, as text. */
function idOf(message: Buffer): string {
  return message.subarray(HEADER_BYTES).toString('utf8');
}
