import { randomBytes } from 'node:crypto';
import type { BridgeHandover, BridgeLink } from '../handover/bridge-handover.js';
import { HEADER_BYTES, OriginId } from './envelope.js';
import type { FenceHost } from './fence-host.js';
import { HandoverFence } from './handover-fence.js';
import { HandoverForward } from './handover-forward.js';

/** What the Redis bridge (redis-bridge.ts) gives its part in handovers. */
export interface PartHost {
  readonly prefix: string;
  readonly maxBufferedBytes: number;
  subscribe(channel: string): void;
  unsubscribe(channel: string): void;
  /** The last SUBSCRIBE sent (Redis answers in order). */
  lastSubscription(): Promise<unknown>;
  publishEnvelope(channel: string, message: Buffer): void;
  dispatch(channel: string, message: Buffer, keep?: (conn: object) => boolean): void;
  drop(payloadBytes: number): void;
  log(level: 'error' | 'warn' | 'info' | 'debug', message: string): void;
}

/**
 * The Redis bridge's part in a handover (bridge-handover.ts): which side it
 * is on now, if any (handover-forward.ts in the old process, handover-fence.ts
 * in the new one), the ids its envelopes carry and those it drops, and the
 * subscriptions it keeps until the fence.
 */
export class HandoverPart {
  /** This server's id in its envelopes: a new one after each handover it hands over in. */
  origin: OriginId;
  /** Our earlier ids: their echoes are ours too. */
  private readonly former: OriginId[] = [];
  /** The ids of the process we took over from: it forwarded every publish it made under them, so Redis's copy is dropped. */
  private readonly predecessors: OriginId[] = [];
  /** The channels with a local subscriber now. */
  private readonly open = new Set<string>();
  private forward: HandoverForward | null = null;
  private follow: HandoverFence | null = null;
  private link: BridgeLink | null = null;
  /** A cluster's successor until its old worker's hello (or word that none comes): what our subscriber brought. */
  private awaiting: { channel: string; message: Buffer }[] | null = null;
  private awaitingBytes = 0;
  /** Handovers whose fence did not come in time, or whose other process went first. */
  fallbacks = 0;
  private readonly fence: FenceHost;
  readonly fenceChannel: string;
  private readonly broadcastChannel: string;

  constructor(
    private readonly host: PartHost,
    origin: OriginId,
  ) {
    this.origin = origin;
    this.fenceChannel = `${host.prefix}f`;
    this.broadcastChannel = `${host.prefix}b`;
    this.fence = {
      fenceChannel: this.fenceChannel,
      origin: () => this.origin,
      subscribeChannel: (channel) => host.subscribe(channel),
      unsubscribeChannel: (channel) => host.unsubscribe(channel),
      wanted: (channel) => channel === this.broadcastChannel || this.open.has(channel),
      lastSubscription: () => host.lastSubscription(),
      publishEnvelope: (channel, message) => host.publishEnvelope(channel, message),
      dispatch: (channel, message, keep) => host.dispatch(channel, message, keep),
      renewOrigin: () => {
        this.former.push(this.origin);
        this.origin = new OriginId(randomBytes(8));
      },
      fellBack: (why) => {
        this.fallbacks++;
        host.log('warn', `lightws/redis: handover: ${why}; this server's own Redis stream from now on`);
      },
      done: () => {
        this.forward = null;
        this.follow = null;
      },
      log: (level, message) => host.log(level, `lightws/redis: handover: ${message}`),
      ours: (message) => this.ours(message),
    };
  }

  hello(): object {
    return { origin: this.origin.toString() };
  }

  /** The old process: `hello` is the new one's. Null when it cannot take part. */
  handingOver(link: BridgeLink, hello: object): BridgeHandover | null {
    const successor = originOf((hello as { origin?: unknown }).origin);
    if (successor === null || this.busy) return null;
    return (this.forward = new HandoverForward(this.fence, link, successor));
  }

  /** The new process: `hello` is the old one's (with `yours`, the id the old one knows us by: a cluster's successor). */
  takingOver(link: BridgeLink, hello: object): BridgeHandover | null {
    const said = hello as { origin?: unknown; yours?: { origin?: unknown } };
    const predecessor = originOf(said.origin);
    const yours = said.yours === undefined ? this.origin : originOf(said.yours?.origin);
    if (predecessor === null || yours === null || this.busy) return null;
    this.predecessors.push(predecessor);
    if (yours !== this.origin) {
      this.former.push(this.origin);
      this.origin = yours;
    }
    // Held since our start: the old process forwards all of it (it took part before we existed).
    this.awaiting = null;
    this.link = link;
    const drop = (bytes: number): void => this.host.drop(bytes);
    const follow = (this.follow = new HandoverFence(this.fence, link, this.host.maxBufferedBytes, drop));
    for (const channel of this.open) follow.opened(channel); // subscribed while we waited: the old process too
    return follow;
  }

  /** The old process, for a cluster's successor not started yet: the id it will take. */
  successorHello(): object {
    return { origin: randomBytes(8).toString('hex') };
  }

  awaitingHandover(): void {
    if (!this.busy) this.awaiting ??= [];
  }

  noHandover(): void {
    const held = this.awaiting ?? [];
    this.awaiting = null;
    this.awaitingBytes = 0;
    for (const { channel, message } of held) this.host.dispatch(channel, message);
  }

  /** Whether `message` is one of ours (under any id we had). */
  private ours(message: Buffer): boolean {
    return this.origin.isIn(message) || this.former.some((id) => id.isIn(message));
  }

  private get busy(): boolean {
    return this.forward !== null || this.follow !== null;
  }

  /** A publish made here, enveloped: down or up the handover channel too. */
  published(channel: string, message: Buffer): void {
    this.forward?.published(channel, message);
    this.follow?.published(channel, message);
  }

  /** A message from our subscriber: true when it is not to be delivered here (ours, taken by a handover). */
  taken(channel: string, message: Buffer): boolean {
    if (!Buffer.isBuffer(message) || message.length < HEADER_BYTES) return false; // malformed: counted there
    if (channel === this.fenceChannel) {
      this.forward?.stream(channel, message);
      this.follow?.stream(channel, message);
      return true;
    }
    if (this.ours(message) || this.predecessors.some((id) => id.isIn(message))) return true;
    if (this.awaiting !== null) {
      this.awaiting.push({ channel, message });
      this.awaitingBytes += message.length;
      while (this.awaitingBytes > this.host.maxBufferedBytes && this.awaiting.length > 0) {
        const oldest = this.awaiting.shift()!;
        this.awaitingBytes -= oldest.message.length;
        this.host.drop(oldest.message.length - HEADER_BYTES);
      }
      return true;
    }
    if (this.forward !== null && !this.forward.stream(channel, message)) return true;
    if (this.follow === null) return false;
    this.follow.stream(channel, message);
    return true;
  }

  /** A channel has its first local subscriber: whether to SUBSCRIBE (not when a handover kept it subscribed). */
  opened(channel: string): boolean {
    this.open.add(channel);
    if ((this.forward ?? this.follow)?.held.delete(channel) === true) return false;
    this.follow?.opened(channel);
    return true;
  }

  /** A channel lost its last local subscriber: whether to UNSUBSCRIBE now (not during a handover). */
  closed(channel: string): boolean {
    this.open.delete(channel);
    const side = this.forward ?? this.follow;
    side?.held.add(channel);
    return side === null;
  }

  /** What a handover keeps subscribed besides the topics: to subscribe again after a reconnect. */
  kept(): string[] {
    const side = this.forward ?? this.follow;
    return side === null ? [] : [...side.held, this.fenceChannel];
  }

  /** Our own publish back from the old process: to the connections `keep` accepts. */
  deliverSome(topic: string | null, payload: Buffer, isBinary: boolean, keep: (conn: object) => boolean): void {
    this.link?.deliverSome(topic, payload, isBinary, keep);
  }

  /** The bridge is detached: a handover in progress is over for it. */
  ended(): void {
    this.forward?.ended();
    this.follow?.ended();
  }
}

/** An id as the other process's hello gives it (16 hex digits), or null. */
function originOf(text: unknown): OriginId | null {
  return typeof text === 'string' && /^[0-9a-f]{16}$/.test(text) ? new OriginId(Buffer.from(text, 'hex')) : null;
}
