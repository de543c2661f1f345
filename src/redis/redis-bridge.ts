import type { BridgeHost, RemoteStats, TopicBridge } from '../api/topic-bridge.js';
import type { SendData } from '../api/send-result.js';
import type { RedisLink } from './clients.js';
import { encodeEnvelope, HEADER_BYTES as HEADER, openEnvelope, type OriginId } from './envelope.js';
import { Outbox, type Pending } from './outbox.js';

/** How often the subscriber counts are asked while kept publishes wait for the other servers. */
const RESUBSCRIBE_POLL_MS = 50;
/** Channels whose last reach is remembered (the most recently published); older ones are forgotten. */
const REACH_CHANNELS = 4096;

export interface RedisBridgeConfig {
  /** Every channel name starts with it: `<prefix>t:<topic>` for topics, `<prefix>b` for broadcasts. */
  prefix: string;
  /** Publishes not yet acknowledged by Redis (in flight, or waiting for a reconnect) are kept up to this many bytes. */
  maxBufferedBytes: number;
  /** After a reconnect, how long the kept publishes wait at most for the other servers to subscribe again. */
  resubscribeWaitMs: number;
  origin: OriginId;
}

/**
 * The topic bridge through Redis pub/sub. Each server subscribes to a
 * topic's channel only while it has a local subscriber; a publish goes out
 * once, enveloped (envelope.ts) with this server's id, and comes back to
 * every subscribed server, this one included: Redis echoes a publish to the
 * publisher's own subscriber connection, and that echo is recognised by the
 * id and dropped, since the local subscribers already have it.
 *
 * While Redis cannot be reached, publishes are kept (outbox.ts). When it is
 * back they must not go out before the other servers subscribe again (their
 * clients reconnect on their own back-off, often later than ours), since
 * pub/sub delivers only to who listens at that instant: so the kept ones
 * wait until every channel they are for has, by PUBSUB NUMSUB, as many
 * subscribers as the last publish there reached before the outage, or until
 * resubscribeWaitMs (a server that never comes back must not hold the rest).
 * Publishes made meanwhile queue behind them, in order.
 *
 * Nothing here throws into the server: client errors are counted and logged
 * once per outage, failed commands are counted, and a message that is not a
 * valid envelope is counted as malformed and dropped.
 */
export class RedisBridge implements TopicBridge {
  private host: BridgeHost | null = null;
  private readonly topicPrefix: string;
  private readonly broadcastChannel: string;
  private readonly outbox = new Outbox();
  private inFlightBytes = 0;
  /** Subscribers the last acknowledged publish on each channel reached (PUBLISH's reply), oldest channel first. */
  private readonly reach = new Map<string, number>();
  /** The kept publishes are waiting for the other servers to subscribe again (resend). */
  private resending = false;
  private readonly counts = {
    sent: 0,
    sentBytes: 0,
    received: 0,
    receivedBytes: 0,
    dropped: 0,
    droppedBytes: 0,
    malformed: 0,
    errors: 0,
  };
  private channels = 0;
  /** The last subscribe sent: Redis answers in order, so once it is acknowledged, every earlier one is. */
  private lastSubscription: Promise<unknown> = Promise.resolve();
  private readonly up = { publisher: false, subscriber: false };
  private subscriberWasUp = false;
  private readyWaiters: (() => void)[] = [];

  constructor(
    private readonly publisher: RedisLink,
    private readonly subscriber: RedisLink,
    private readonly config: RedisBridgeConfig,
  ) {
    this.topicPrefix = `${config.prefix}t:`;
    this.broadcastChannel = `${config.prefix}b`;
  }

  // ——— TopicBridge ———

  attached(host: BridgeHost): void {
    this.host = host;
    this.publisher.watch({
      up: () => this.linkUp('publisher'),
      down: () => this.linkDown('publisher'),
      error: (error) => this.linkError('publisher', error),
    });
    this.subscriber.watch({
      up: () => this.linkUp('subscriber'),
      down: () => this.linkDown('subscriber'),
      error: (error) => this.linkError('subscriber', error),
      message: (channel, message) => this.received(channel, message),
    });
    this.up.publisher = this.publisher.ready();
    this.up.subscriber = this.subscriberWasUp = this.subscriber.ready();
    this.publisher.start();
    this.subscriber.start();
    this.subscribe(this.broadcastChannel);
  }

  detached(): void {
    for (const topic of this.host?.topics() ?? []) this.topicClosed(topic);
    this.unsubscribe(this.broadcastChannel);
    this.publisher.dispose();
    this.subscriber.dispose();
    this.host = null;
  }

  topicOpened(topic: string): void {
    this.channels++;
    this.subscribe(this.topicPrefix + topic);
  }

  topicClosed(topic: string): void {
    this.channels--;
    this.unsubscribe(this.topicPrefix + topic);
  }

  published(topic: string, data: SendData, isBinary: boolean): void {
    this.send(this.topicPrefix + topic, data, isBinary);
  }

  broadcast(data: SendData, isBinary: boolean): void {
    this.send(this.broadcastChannel, data, isBinary);
  }

  stats(): RemoteStats {
    return {
      connected: this.up.publisher && this.up.subscriber ? 1 : 0,
      ...this.counts,
      buffered: this.outbox.length,
      bufferedBytes: this.outbox.bytes + this.inFlightBytes,
      channels: this.channels,
    };
  }

  /** Resolves once both connections are ready and every subscription made so far is acknowledged. */
  async ready(): Promise<void> {
    if (!(this.up.publisher && this.up.subscriber))
      await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    await this.lastSubscription.catch(() => {});
  }

  // ——— out ———

  private send(channel: string, data: SendData, isBinary: boolean): void {
    const message = encodeEnvelope(this.config.origin, data, isBinary); // a copy: `data` may be borrowed
    if (this.publisher.ready() && !this.resending && this.outbox.length === 0) {
      if (message.length > this.config.maxBufferedBytes - this.inFlightBytes) this.drop(message.length - HEADER);
      else this.publish(channel, message);
      return;
    }
    this.keep({ channel, message }); // behind what waits already: order per publisher per topic
    if (this.publisher.ready()) void this.resend();
  }

  /** Keeps a publish for later; past maxBufferedBytes the oldest kept ones are dropped (and counted) first. */
  private keep(item: Pending): void {
    for (const dropped of this.outbox.offer(item, this.config.maxBufferedBytes - this.inFlightBytes))
      this.drop(dropped.message.length - HEADER);
  }

  private publish(channel: string, message: Buffer): void {
    const size = message.length;
    this.inFlightBytes += size;
    let sent: Promise<unknown>;
    try {
      sent = this.publisher.publish(channel, message);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (receivers) => {
        this.inFlightBytes -= size;
        this.counts.sent++;
        this.counts.sentBytes += size - HEADER;
        if (typeof receivers === 'number') this.remember(channel, receivers);
      },
      () => {
        this.inFlightBytes -= size;
        this.drop(size - HEADER);
      },
    );
  }

  private remember(channel: string, receivers: number): void {
    this.reach.delete(channel); // re-inserted as the newest
    this.reach.set(channel, receivers);
    if (this.reach.size > REACH_CHANNELS) this.reach.delete(this.reach.keys().next().value!);
  }

  /**
   * Sends the kept publishes once the other servers listen again (see the
   * class comment), or at resubscribeWaitMs; stops if the publisher goes
   * down again meanwhile (its next `ready` starts over).
   */
  private async resend(): Promise<void> {
    if (this.resending) return;
    this.resending = true;
    const deadline = Date.now() + this.config.resubscribeWaitMs;
    try {
      while (this.publisher.ready() && this.host !== null && Date.now() < deadline && !(await this.listenedTo()))
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_POLL_MS).unref());
    } finally {
      this.resending = false;
    }
    if (this.publisher.ready() && this.host !== null) this.flush();
  }

  /** Whether every channel with kept publishes has as many subscribers as before the outage. */
  private async listenedTo(): Promise<boolean> {
    const channels = [...this.outbox.channels()].filter((c) => (this.reach.get(c) ?? 0) > 0);
    if (channels.length === 0) return true;
    let counts: number[] | undefined;
    try {
      const asked = this.publisher.numsub(channels);
      if (asked === undefined) return true; // the client cannot ask: send at once
      counts = await asked;
    } catch {
      return false; // asked again at the next poll
    }
    return channels.every((channel, i) => (counts[i] ?? 0) >= this.reach.get(channel)!);
  }

  private flush(): void {
    for (const { channel, message } of this.outbox.drain()) this.publish(channel, message);
  }

  private drop(payloadBytes: number): void {
    this.counts.dropped++;
    this.counts.droppedBytes += payloadBytes;
  }

  // ——— in ———

  private received(channel: Buffer, message: Buffer): void {
    const host = this.host;
    if (host === null) return;
    try {
      const opened = openEnvelope(message, this.config.origin);
      if (!opened.ok) {
        this.counts.malformed++;
        host.log('debug', `lightws/redis: malformed message on ${String(channel)}: ${opened.why}`);
        return;
      }
      if (opened.fromSelf) return; // our own publish, echoed: the local subscribers have it already
      const name = channel.toString();
      if (name === this.broadcastChannel) host.deliverToAll(opened.payload, opened.isBinary);
      else if (name.startsWith(this.topicPrefix))
        host.deliver(name.slice(this.topicPrefix.length), opened.payload, opened.isBinary);
      else return;
      this.counts.received++;
      this.counts.receivedBytes += opened.payload.length;
    } catch (error) {
      this.counts.errors++;
      host.log(
        'error',
        `lightws/redis: delivering a message from ${String(channel)} failed: ${(error as Error)?.stack ?? String(error)}`,
      );
    }
  }

  // ——— subscriptions ———

  private subscribe(channel: string): void {
    this.lastSubscription = this.command(() => this.subscriber.subscribe(channel), `subscribe ${channel}`);
  }

  private unsubscribe(channel: string): void {
    void this.command(() => this.subscriber.unsubscribe(channel), `unsubscribe ${channel}`);
  }

  /** Runs a subscriber command; a failure is counted and logged, never thrown. */
  private command(run: () => Promise<unknown>, what: string): Promise<unknown> {
    let done: Promise<unknown>;
    try {
      done = run();
    } catch (error) {
      done = Promise.reject(error);
    }
    return done.catch((error: unknown) => {
      this.counts.errors++;
      this.host?.log('warn', `lightws/redis: ${what} failed: ${(error as Error)?.message ?? String(error)}`);
    });
  }

  // ——— connection state ———

  private linkUp(role: 'publisher' | 'subscriber'): void {
    const wasDown = !this.up[role];
    this.up[role] = true;
    if (wasDown) this.host?.log('info', `lightws/redis: ${role} connected`);
    if (role === 'publisher' && this.outbox.length > 0) void this.resend();
    if (role === 'subscriber') {
      // A reconnect: restore the subscriptions, unless the client does it itself.
      if (this.subscriberWasUp && !this.subscriber.resubscribes && this.host !== null) {
        this.subscribe(this.broadcastChannel);
        for (const topic of this.host.topics()) this.subscribe(this.topicPrefix + topic);
      }
      this.subscriberWasUp = true;
    }
    if (this.up.publisher && this.up.subscriber) for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  private linkDown(role: 'publisher' | 'subscriber'): void {
    if (!this.up[role]) return;
    this.up[role] = false;
    this.host?.log(
      'warn',
      `lightws/redis: ${role} lost its connection; local delivery goes on, remote publishes are buffered (up to ${this.config.maxBufferedBytes} bytes)`,
    );
  }

  private linkError(role: 'publisher' | 'subscriber', error: Error): void {
    this.counts.errors++;
    if (this.up[role]) this.host?.log('warn', `lightws/redis: ${role}: ${error?.message ?? String(error)}`);
  }
}
