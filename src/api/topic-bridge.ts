import type { SendData } from './send-result.js';

/**
 * Counters of a topic bridge, in `server.stats().remote` (zeros when no
 * bridge is attached); plain numbers, so that cluster stats sum them.
 */
export interface RemoteStats {
  /** 1 while the bridge can reach the other servers (summed over a cluster: workers connected). */
  connected: number;
  /** Publishes handed on to the other servers, and their payload bytes. */
  sent: number;
  sentBytes: number;
  /** Publishes from other servers delivered here, and their payload bytes. */
  received: number;
  receivedBytes: number;
  /** Publishes not carried: over the buffer bound while the other servers were out of reach, or refused. */
  dropped: number;
  droppedBytes: number;
  /** Publishes waiting for the other servers to be reachable again, and their bytes (within the bound). */
  buffered: number;
  bufferedBytes: number;
  /** Messages from the other side that were not ours to read (bad version, header, flags or UTF-8). */
  malformed: number;
  /** Topics this server receives from the others now: those with at least one local subscriber. */
  channels: number;
  /** Errors the bridge's connections reported (handled, never thrown). */
  errors: number;
}

export const NO_REMOTE_STATS: Readonly<RemoteStats> = Object.freeze({
  connected: 0,
  sent: 0,
  sentBytes: 0,
  received: 0,
  receivedBytes: 0,
  dropped: 0,
  droppedBytes: 0,
  buffered: 0,
  bufferedBytes: 0,
  malformed: 0,
  channels: 0,
  errors: 0,
});

/** What a bridge may do to the server it is attached to. */
export interface BridgeHost {
  /** Delivers a message from another server to this server's subscribers of `topic` only; framed once. Returns the receiver count. */
  deliver(topic: string, data: SendData, isBinary: boolean): number;
  /** Delivers a broadcast from another server to every open connection here. */
  deliverToAll(data: SendData, isBinary: boolean): number;
  /** The topics with at least one local subscriber now. */
  topics(): IterableIterator<string>;
  /** Writes a line to the server's log (its logLevel and logger). */
  log(level: 'error' | 'warn' | 'info' | 'debug', message: string): void;
}

/**
 * Carries topics beyond this process: to other servers through Redis
 * (src/redis), or to sibling workers through a cluster's primary. The
 * reactor calls it on three events only, none per connection: a topic's
 * first local subscriber and its last leaving, and every publish. A server
 * with no bridge pays one null check per publish.
 *
 * Every method is called from inside the server's own calls (subscribe,
 * close, publish) and must not throw, except `published` and `broadcast` with
 * data `send` would refuse (a TypeError for the caller); `data` there is the caller's
 * (possibly a borrowed view into the read slab): copy what outlives the call.
 */
export interface TopicBridge {
  /** Called once, when attached: the host to deliver to. Topics already subscribed are reported through topicOpened next. */
  attached(host: BridgeHost): void;
  /** Detached from the server (the server stops calling; the bridge should leave every topic). */
  detached(): void;
  /** `topic` has its first local subscriber: start receiving it from the other servers. */
  topicOpened(topic: string): void;
  /** `topic` lost its last local subscriber: stop receiving it. */
  topicClosed(topic: string): void;
  /** A publish on this server, already delivered to the local subscribers: carry it to the others. */
  published(topic: string, data: SendData, isBinary: boolean): void;
  /** A broadcast asked to reach every server (`server.broadcast(data, isBinary, { remote: true })`). */
  broadcast(data: SendData, isBinary: boolean): void;
  stats(): RemoteStats;
}
