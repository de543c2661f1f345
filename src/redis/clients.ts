/**
 * The two Redis clients people use, node-redis (`redis` ≥ 4) and ioredis,
 * behind one small interface, recognised by their shape: lightws imports
 * neither (zero runtime dependencies), it is handed the user's clients.
 *
 * What each library does by itself, and what is left to us:
 * - both reconnect by themselves, and both restore their subscriptions on
 *   reconnect (node-redis always, from its listener map; ioredis when
 *   `autoResubscribe` is on, its default). With ioredis's autoResubscribe or
 *   offline queue turned off, the bridge subscribes its topics again itself
 *   on every `ready` after the first (`resubscribes`).
 * - both queue commands while disconnected, without a bound: the bridge never
 *   hands them a publish while they are not ready, it keeps its own bounded
 *   buffer instead.
 * - both emit 'error' (node-redis: an EventEmitter, so an error without a
 *   listener would be thrown into the process; ioredis prints it): the bridge
 *   always listens.
 */

/** The part of an EventEmitter the bridge uses (`any`: so that both libraries' own signatures fit). */
interface Emitter {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- both libraries' own listener signatures must fit
type Listener = (...args: any[]) => void;

/** node-redis (v4 and later), as far as the bridge uses it. */
export interface NodeRedisClient extends Emitter {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<unknown>;
  unsubscribe(
    channel: string,
    listener: (message: Buffer, channel: Buffer) => void,
    bufferMode: true,
  ): Promise<unknown>;
  duplicate(): NodeRedisClient;
  /** Any command (PUBSUB NUMSUB: whether the other servers listen again after an outage). */
  sendCommand?(args: string[]): Promise<unknown>;
  /** v5 and later: close() and destroy(); v4: quit() and disconnect(). */
  close?(): Promise<unknown>;
  destroy?(): void;
  quit?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
}

/** ioredis, as far as the bridge uses it. */
export interface IoRedisClient extends Emitter {
  readonly status: string;
  readonly options?: { autoResubscribe?: boolean; enableOfflineQueue?: boolean; lazyConnect?: boolean };
  connect(): Promise<unknown>;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  duplicate(): IoRedisClient;
  /** Any command (PUBSUB NUMSUB: whether the other servers listen again after an outage). */
  call?(command: string, ...args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** Either client. */
export type RedisClient = NodeRedisClient | IoRedisClient;

/** What the bridge needs of a client: state, the commands, and events it can stop listening to. */
export interface RedisLink {
  readonly library: 'node-redis' | 'ioredis';
  /** Connected and ready for commands. */
  ready(): boolean;
  /** Restores subscriptions by itself on reconnect. */
  readonly resubscribes: boolean;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /**
   * How many subscriber connections each channel has (PUBSUB NUMSUB), in
   * the order asked; undefined when the client cannot send the command.
   */
  numsub(channels: readonly string[]): Promise<number[]> | undefined;
  /** Starts connecting if the client was not told to yet (node-redis needs `connect()`; a lazy ioredis too). */
  start(): void;
  /** Calls `up` on every ready, `down` when the connection is lost, `error` for every error; until `dispose`. */
  watch(events: {
    up(): void;
    down(): void;
    error(error: Error): void;
    message?(channel: Buffer, message: Buffer): void;
  }): void;
  dispose(): void;
  /** A second connection of the same configuration (for a subscriber not given). */
  duplicate(): RedisLink;
  /**
   * Closes the connection: politely (QUIT) when it is up, at once when it is
   * not, and at once after QUIT_TIMEOUT_MS when the polite way gets no answer
   * (a Redis that is stopped, or behind a partition, keeps the TCP connection
   * open and never answers the QUIT: the client would wait for ever).
   */
  quit(): Promise<void>;
}

/** How long a polite QUIT may wait for Redis's answer before the connection is dropped. */
export const QUIT_TIMEOUT_MS = 1000;

/** `polite`, or `force` once it has not settled within QUIT_TIMEOUT_MS; never rejects. */
async function boundedQuit(polite: () => Promise<unknown>, force: () => unknown): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), QUIT_TIMEOUT_MS)));
  let politely: Promise<unknown>;
  try {
    politely = polite();
  } catch (error) {
    politely = Promise.reject(error);
  }
  const outcome = await Promise.race([
    politely.then(
      () => 'quit',
      () => 'failed',
    ),
    late,
  ]);
  clearTimeout(timer);
  if (outcome === 'quit') return;
  try {
    await force();
  } catch {
    // already closed
  }
}

function isNodeRedis(client: object): client is NodeRedisClient {
  const c = client as Partial<NodeRedisClient>;
  return typeof c.isOpen === 'boolean' && typeof c.isReady === 'boolean' && typeof c.subscribe === 'function';
}

function isIoRedis(client: object): client is IoRedisClient {
  const c = client as Partial<IoRedisClient>;
  return typeof c.status === 'string' && typeof c.subscribe === 'function' && typeof c.on === 'function';
}

/**
 * The counts of a PUBSUB NUMSUB reply, in the channels' order: [channel,
 * count, channel, count, ...] over RESP2 (both libraries' default), a map
 * from channel to count over RESP3.
 */
function counts(reply: unknown): number[] {
  if (Array.isArray(reply)) return reply.filter((_, i) => i % 2 === 1).map(Number);
  if (reply instanceof Map) return [...(reply.values() as Iterable<unknown>)].map(Number);
  if (reply !== null && typeof reply === 'object') return Object.values(reply).map(Number);
  throw new TypeError(`PUBSUB NUMSUB answered ${typeof reply}`);
}

/** Wraps a user's client; a clear TypeError for anything else. */
export function linkOf(client: unknown, role: string): RedisLink {
  if (client !== null && typeof client === 'object') {
    if (isNodeRedis(client)) return new NodeRedisLink(client);
    if (isIoRedis(client)) return new IoRedisLink(client);
  }
  throw new TypeError(
    `${role} must be a client of 'redis' (node-redis ≥ 4, createClient()) or of 'ioredis' (new Redis()), not ${client === null ? 'null' : typeof client}`,
  );
}

/** The listeners a link added, to take off again in `dispose`. */
abstract class ListenedLink {
  private readonly added: [string, Listener][] = [];
  constructor(protected readonly emitter: Emitter) {}

  protected listen(event: string, listener: Listener): void {
    this.emitter.on(event, listener);
    this.added.push([event, listener]);
  }

  dispose(): void {
    for (const [event, listener] of this.added.splice(0)) this.emitter.off(event, listener);
  }
}

class NodeRedisLink extends ListenedLink implements RedisLink {
  readonly library = 'node-redis';
  readonly resubscribes = true;
  private onMessage: ((message: Buffer, channel: Buffer) => void) | undefined;
  /** The one listener node-redis calls for every channel (its listener sets are per channel). */
  private readonly listener = (message: Buffer, channel: Buffer): void => this.onMessage?.(channel, message);

  constructor(private readonly client: NodeRedisClient) {
    super(client);
  }

  ready(): boolean {
    return this.client.isReady;
  }

  publish(channel: string, message: Buffer): Promise<unknown> {
    return this.client.publish(channel, message);
  }

  subscribe(channel: string): Promise<unknown> {
    return this.client.subscribe(channel, this.listener, true);
  }

  unsubscribe(channel: string): Promise<unknown> {
    return this.client.unsubscribe(channel, this.listener, true);
  }

  numsub(channels: readonly string[]): Promise<number[]> | undefined {
    return this.client.sendCommand?.(['PUBSUB', 'NUMSUB', ...channels]).then(counts);
  }

  start(): void {
    if (!this.client.isOpen) this.client.connect().catch(() => {}); // failures arrive as 'error' events too
  }

  watch(events: Parameters<RedisLink['watch']>[0]): void {
    this.onMessage = events.message === undefined ? undefined : (channel, message) => events.message!(channel, message);
    this.listen('ready', () => events.up());
    this.listen('reconnecting', () => events.down());
    this.listen('end', () => events.down());
    this.listen('error', (error: Error) => events.error(error));
  }

  override dispose(): void {
    super.dispose();
    this.onMessage = undefined;
  }

  duplicate(): RedisLink {
    return new NodeRedisLink(this.client.duplicate());
  }

  async quit(): Promise<void> {
    const c = this.client;
    if (!c.isOpen) return;
    const force = (): unknown => (c.isOpen ? (c.destroy !== undefined ? c.destroy() : c.disconnect?.()) : undefined);
    if (c.isReady) await boundedQuit(() => (c.close ?? c.quit)!.call(c), force);
    else await boundedQuit(async () => force(), force);
  }
}

class IoRedisLink extends ListenedLink implements RedisLink {
  readonly library = 'ioredis';
  readonly resubscribes: boolean;

  constructor(private readonly client: IoRedisClient) {
    super(client);
    const options = client.options ?? {};
    this.resubscribes = options.autoResubscribe !== false && options.enableOfflineQueue !== false;
  }

  ready(): boolean {
    return this.client.status === 'ready';
  }

  publish(channel: string, message: Buffer): Promise<unknown> {
    return this.client.publish(channel, message);
  }

  subscribe(channel: string): Promise<unknown> {
    return this.client.subscribe(channel);
  }

  unsubscribe(channel: string): Promise<unknown> {
    return this.client.unsubscribe(channel);
  }

  numsub(channels: readonly string[]): Promise<number[]> | undefined {
    return this.client.call?.('PUBSUB', 'NUMSUB', ...channels).then(counts);
  }

  start(): void {
    if (this.client.status === 'wait') this.client.connect().catch(() => {}); // lazyConnect; failures arrive as 'error' too
  }

  watch(events: Parameters<RedisLink['watch']>[0]): void {
    this.listen('ready', () => events.up());
    this.listen('close', () => events.down());
    this.listen('error', (error: Error) => events.error(error));
    if (events.message !== undefined) this.listen('messageBuffer', events.message);
  }

  duplicate(): RedisLink {
    return new IoRedisLink(this.client.duplicate());
  }

  async quit(): Promise<void> {
    const c = this.client;
    if (c.status === 'end') return;
    // Not connected: quit would wait for a reconnect.
    if (c.status === 'ready')
      await boundedQuit(
        () => c.quit(),
        () => c.disconnect(),
      );
    else c.disconnect();
  }
}
