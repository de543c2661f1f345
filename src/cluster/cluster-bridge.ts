import type { ChildProcess } from 'node:child_process';
import { bytesOf, type SendData } from '../api/send-result.js';
import { formatFamily } from '../protocol/prometheus-text.js';
import { NO_REMOTE_STATS, type BridgeHost, type RemoteStats, type TopicBridge } from '../api/topic-bridge.js';
import type { Channel, HandoverMessage } from '../handover/channel.js';
import { ReloadRelay } from './reload-relay.js';
import { relaySize, type Payload, type RelayMessage } from './relay-message.js';

/**
 * Topics across a cluster's workers through its primary, over the IPC
 * channels `startCluster` already has (`relayTopics: true`): no Redis for
 * one machine. A worker tells the primary when a topic gains its first local
 * subscriber and loses its last, and sends it every publish; the primary
 * passes each publish to the workers that subscribe to its topic, the sender
 * not included (its own subscribers already have it), and a broadcast to
 * every other worker. Order is kept per publishing worker: one IPC channel
 * each way, in order.
 *
 * Payloads travel in Node's JSON IPC: text as a string, binary as base64
 * (a third larger; the relay is for one machine's chat and fan-out, where
 * the IPC hop, not the bytes, is the cost).
 */

export type { RelayMessage } from './relay-message.js';

/** The worker's side: a TopicBridge whose other servers are its sibling workers. */
export class ClusterTopicBridge implements TopicBridge {
  private host: BridgeHost | null = null;
  private readonly counts = {
    sent: 0,
    sentBytes: 0,
    received: 0,
    receivedBytes: 0,
    dropped: 0,
    droppedBytes: 0,
    malformed: 0,
  };
  private channels = 0;
  private readonly onMessage = (message: unknown): void => this.received(message);
  /** Publishes made here, numbered in every relay (`id`): a successor tells its own apart by it. */
  private made = 0;
  /**
   * An old worker whose slot reloads: the handover channel to its successor, down which every relayed and
   * local publish goes behind the connections sent before it (as ForwardBridge does without a relay), and
   * the primary's number of the last relayed one sent down it (reported in reload-done).
   */
  private forward: Channel | null = null;
  private lastForwarded = 0;
  /** A successor, until its predecessor's pipe ends: the primary's relays wait behind everything on the pipe. */
  private held: Extract<RelayMessage, { lightws: 'relay' }>[] | null = null;
  /**
   * A successor, from its first adoption until its publishes are back in step: the connections it adopted.
   * Its own publishes skip them (`localOnly`) and come back to them from the old worker in order with
   * everything else it forwards (or, past the switch, from the primary): the one made while one was in
   * flight included, and none ahead of one still on its way round.
   */
  private adoptedSet: WeakSet<object> | null = null;
  /** The `id` of the last publish held back from them, and of the last come back. */
  private lastHeld = 0;
  private lastBack = 0;
  /** False while a predecessor's pipe may still bring publishes (`hold`); a successor without one has none. */
  private pipeEnded = true;
  /** A successor: who its own publishes reach here (set by worker-reload.ts to the reactor's `localOnly`). */
  localFilter: ((keep: ((conn: object) => boolean) | null) => void) | null = null;
  /** A successor: delivers a publish to the connections `keep` accepts (worker-reload.ts). */
  deliverSome:
    ((topic: string | null, data: SendData, isBinary: boolean, keep: (conn: object) => boolean) => void) | null = null;

  constructor(private readonly channel: Pick<NodeJS.Process, 'send' | 'connected' | 'on' | 'off'> = process) {}

  attached(host: BridgeHost): void {
    this.host = host;
    this.channel.on('message', this.onMessage);
  }

  detached(): void {
    for (const topic of this.host?.topics() ?? []) this.topicClosed(topic);
    this.channel.off('message', this.onMessage);
    this.host = null;
  }

  topicOpened(topic: string): void {
    this.channels++;
    this.send({ lightws: 'topic', topic, subscribed: true });
  }

  topicClosed(topic: string): void {
    this.channels--;
    this.send({ lightws: 'topic', topic, subscribed: false });
  }

  published(topic: string, data: SendData, isBinary: boolean): void {
    this.relay(topic, data, isBinary);
  }

  broadcast(data: SendData, isBinary: boolean): void {
    this.relay(null, data, isBinary);
  }

  /**
   * An old worker: forward every publish down `channel` from now (null: stop). Returns the primary's number
   * of the last relay forwarded: the primary sends the successor those after it (reload-relay.ts).
   */
  forwardTo(channel: Channel | null): number {
    this.forward = channel;
    return this.lastForwarded;
  }

  /** A successor with its predecessor's pipe: the primary's relays wait until `release` (the pipe's end). */
  hold(): void {
    this.held ??= [];
    this.pipeEnded = false;
  }

  release(): void {
    const held = this.held;
    this.held = null;
    this.pipeEnded = true;
    for (const message of held ?? []) this.received(message);
    this.settle();
  }

  /** A successor adopted `conn`: from now its own publishes skip it until they are back in step. */
  adopted(conn: object): void {
    if (this.adoptedSet === null) {
      const adopted = (this.adoptedSet = new WeakSet());
      this.localFilter?.((c) => !adopted.has(c));
    }
    this.adoptedSet.add(conn);
  }

  /** A successor: a publish its predecessor sent down the handover channel. */
  forwarded(message: HandoverMessage): void {
    if (message.lightws !== 'handover-publish' || this.host === null) return;
    const data = message.base64 !== undefined ? Buffer.from(message.base64, 'base64') : (message.text ?? '');
    this.deliver(message.topic, data, message.isBinary, message.own);
  }

  /** Here: to every subscriber; with `own` (a publish of ours come back) to the adopted ones only. */
  private deliver(topic: string | null, data: SendData, isBinary: boolean, own: number | undefined): void {
    if (own !== undefined) {
      const adopted = this.adoptedSet;
      if (adopted !== null) this.deliverSome?.(topic, data, isBinary, (conn) => adopted.has(conn));
      this.lastBack = own;
      this.settle();
    } else if (topic !== null) this.host!.deliver(topic, data, isBinary);
    else this.host!.deliverToAll(data, isBinary);
  }

  /** Every publish held back from the adopted connections is back, and nothing more comes down the pipe: in step. */
  private settle(): void {
    if (this.adoptedSet === null || !this.pipeEnded || this.lastBack < this.lastHeld) return;
    this.adoptedSet = null;
    this.localFilter?.(null);
  }

  /** An old worker: `payload` down the handover channel, to its successor's subscribers. */
  private forwardPayload(topic: string | null, payload: Payload, isBinary: boolean, own?: number): boolean {
    if (this.forward?.connected !== true) return false;
    this.forward.send({
      lightws: 'handover-publish',
      topic,
      ...payload,
      isBinary,
      ...(own === undefined ? {} : { own }),
    });
    return true;
  }

  stats(): RemoteStats {
    return { ...NO_REMOTE_STATS, ...this.counts, connected: this.channel.connected ? 1 : 0, channels: this.channels };
  }

  private relay(topic: string | null, data: SendData, isBinary: boolean): void {
    // Encoded (so copied) here: `data` may be a view into the read slab.
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : bytesOf(data);
    const payload: Payload = isBinary
      ? { base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') }
      : {
          text:
            typeof data === 'string'
              ? data
              : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
        };
    // An old worker's own publishes reach its successor's subscribers only this way: in order with the connections.
    this.forwardPayload(topic, payload, isBinary);
    // Held back from the adopted connections (localOnly): `own` asks the primary to send it back here.
    const id = ++this.made;
    const held = this.adoptedSet !== null ? (this.lastHeld = id) : undefined;
    if (this.send({ lightws: 'relay', topic, ...payload, id, ...(held === undefined ? {} : { own: held }) })) {
      this.counts.sent++;
      this.counts.sentBytes += bytes.byteLength;
    } else {
      this.counts.dropped++;
      this.counts.droppedBytes += bytes.byteLength;
    }
  }

  private received(message: unknown): void {
    const relayed = message as Partial<Extract<RelayMessage, { lightws: 'relay' }>> | null;
    if (relayed?.lightws !== 'relay' || this.host === null) return;
    const binary = typeof relayed.base64 === 'string';
    if (!binary && typeof relayed.text !== 'string') {
      this.counts.malformed++;
      return;
    }
    if (this.held !== null && relayed.seq === undefined) {
      this.held.push(relayed as Extract<RelayMessage, { lightws: 'relay' }>);
      return;
    }
    const data = binary ? Buffer.from(relayed.base64!, 'base64') : relayed.text!;
    this.counts.received++;
    this.counts.receivedBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const topic = typeof relayed.topic === 'string' ? relayed.topic : null;
    if (typeof relayed.seq === 'number') {
      // The old worker of a slot reloading: the primary sends the slot's relays here only. Every subscriber
      // here has not had it (not the successor's own either: it was made there), and down the channel it
      // reaches the successor's behind every connection sent before it: each subscriber has it exactly once.
      if (topic !== null) this.host.deliver(topic, data, binary);
      else this.host.deliverToAll(data, binary);
      const payload: Payload = binary ? { base64: relayed.base64! } : { text: relayed.text! };
      if (this.forwardPayload(topic, payload, binary, relayed.own)) this.lastForwarded = relayed.seq;
      return;
    }
    this.deliver(topic, data, binary, typeof relayed.own === 'number' ? relayed.own : undefined);
  }

  /** False when the channel to the primary is gone (the primary exited): the publish stays local. */
  private send(message: RelayMessage): boolean {
    if (!this.channel.connected || this.channel.send === undefined) return false;
    this.channel.send(message);
    return true;
  }
}

/** See ClusterOptions.relayMaxBufferedBytes. */
export const DEFAULT_RELAY_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * The primary's side: which worker subscribes to which topic (per topic, a
 * set of worker indexes: nothing per connection), and the passing on.
 *
 * A worker that stops reading its IPC channel (stopped, or too busy) must
 * not make the primary queue without end: Node queues every send in the
 * primary until the pipe takes it. So the relay counts, per worker process,
 * the bytes it handed to `send` whose write has not completed yet (Node calls
 * send's callback once it has, on every supported version), and past
 * relayMaxBufferedBytes drops what it would add, the newest: what is queued
 * cannot be taken back. Those drops are counted per worker for /metrics.
 */
export class TopicRelay {
  private readonly subscribed = new Map<string, Set<number>>();
  /** Per worker process (a restarted one starts at 0): bytes relayed, not yet written to its channel. */
  private readonly buffered = new WeakMap<ChildProcess, { bytes: number }>();
  private readonly dropped: { messages: number; bytes: number }[];
  /** Slots being reloaded: their relays go to their old worker only, numbered (reload-relay.ts). */
  private readonly reloading = new Map<number, ReloadRelay>();

  constructor(
    private readonly workers: readonly (ChildProcess | undefined)[],
    private readonly maxBufferedBytes = DEFAULT_RELAY_MAX_BUFFERED_BYTES,
  ) {
    this.dropped = workers.map(() => ({ messages: 0, bytes: 0 }));
  }

  /** A worker's message (`sender`: the process, when it is not the slot's worker: an old one); false when it was not the relay's. */
  handle(from: number, message: unknown, sender = this.workers[from]): boolean {
    const m = message as Partial<RelayMessage> | null;
    if (m?.lightws === 'topic') {
      if (typeof m.topic !== 'string') return true;
      const set = this.subscribed.get(m.topic);
      if (m.subscribed === true) (set ?? this.subscribed.set(m.topic, new Set()).get(m.topic)!).add(from);
      else if (set !== undefined) {
        set.delete(from);
        if (set.size === 0) this.subscribed.delete(m.topic);
      }
      return true;
    }
    if (m?.lightws !== 'relay') return false;
    const to = typeof m.topic === 'string' ? (this.subscribed.get(m.topic) ?? []) : this.workers.keys();
    const size = relaySize(m);
    // `own` is for the sender's slot only: every other has not had the publish at all.
    const plain = m.own === undefined ? m : { ...m, own: undefined };
    for (const index of to) {
      const worker = this.workers[index];
      const reload = this.reloading.get(index);
      if (reload !== undefined) {
        // Its old worker forwards its own publishes itself; its successor's go there too, for the connections
        // that were in flight when it made them (cluster-bridge.ts `own`).
        if (index !== from) this.pass(index, reload.old, reload.number(plain, size), size);
        else if (sender === worker && sender !== undefined)
          this.pass(index, reload.old, reload.number({ ...m, own: m.id }, size), size);
        continue;
      }
      // Its successor's, held back from the connections it adopted: back to it, in order with the rest.
      if (index === from && sender === worker && typeof m.own === 'number') {
        if (worker?.connected === true) this.pass(index, worker, m, size);
        continue;
      }
      // The sender's own slot has it, unless the sender is an old worker whose successor has the slot now.
      if ((index !== from || sender !== worker) && worker !== sender && worker?.connected === true)
        this.pass(index, worker, plain, size);
    }
    return true;
  }

  /** Slot `index` reloads: its relays go to `old` only, numbered and logged, until `reloaded`. */
  reloadBegins(index: number, old: ChildProcess): void {
    this.reloading.set(index, new ReloadRelay(old, this.maxBufferedBytes));
  }

  /**
   * The slot's reload ended: its relays go to its worker again. `forwarded`: the number of the last one the
   * old worker forwarded to its successor, now the slot's worker, which is sent those after it first; none
   * when the reload failed (the old worker, the slot's worker again, had them all).
   */
  reloaded(index: number, forwarded?: number): void {
    const reload = this.reloading.get(index);
    this.reloading.delete(index);
    const worker = this.workers[index];
    if (reload === undefined || forwarded === undefined || worker === undefined) return;
    const { relays, lost } = reload.after(forwarded);
    this.dropped[index]!.messages += lost;
    for (const { message, size } of relays) if (worker.connected) this.pass(index, worker, message, size);
  }

  /** Relays `m` to one worker, or drops it (counted) when that worker's backlog is full. */
  private pass(index: number, worker: ChildProcess, m: unknown, size: number): void {
    let buffered = this.buffered.get(worker);
    if (buffered === undefined) this.buffered.set(worker, (buffered = { bytes: 0 }));
    if (buffered.bytes + size > this.maxBufferedBytes) {
      const dropped = this.dropped[index]!;
      dropped.messages++;
      dropped.bytes += size;
      return;
    }
    const held = buffered; // this process's: a restarted worker has its own
    held.bytes += size;
    // Node calls this once the message is written to the channel, or with an error when the channel closed.
    worker.send(m as never, () => void (held.bytes -= size));
  }

  /** Bytes waiting for each worker's channel (0 for a worker that is not running). */
  bufferedBytes(): number[] {
    return this.workers.map((worker) => (worker === undefined ? 0 : (this.buffered.get(worker)?.bytes ?? 0)));
  }

  /** The relay's own series, in the Prometheus text format, per worker. */
  metrics(): string {
    const per = (value: (index: number) => number) =>
      this.dropped.map((_, index) => ({ labels: { worker: String(index) }, value: value(index) }));
    const buffered = this.bufferedBytes();
    return (
      formatFamily(
        'lightws_relay_buffered_bytes',
        'gauge',
        'Bytes of relayed publishes the primary holds for the worker, not yet written to its IPC channel.',
        per((i) => buffered[i]!),
      ) +
      formatFamily(
        'lightws_relay_dropped_messages_total',
        'counter',
        'Relayed publishes the primary dropped for the worker because relayMaxBufferedBytes were waiting for it: its subscribers missed them.',
        per((i) => this.dropped[i]!.messages),
      ) +
      formatFamily(
        'lightws_relay_dropped_bytes_total',
        'counter',
        'Bytes of the relayed publishes dropped for the worker (as relayed: text, or binary in base64).',
        per((i) => this.dropped[i]!.bytes),
      )
    );
  }

  /** A worker exited: it subscribes to nothing any more (its replacement reports its own topics). */
  forget(index: number): void {
    for (const [topic, set] of this.subscribed) {
      set.delete(index);
      if (set.size === 0) this.subscribed.delete(topic);
    }
  }
}
