import type { SendData } from '../api/send-result.js';
import type { TopicBridge } from '../api/topic-bridge.js';
import type { Channel, HandoverMessage } from './channel.js';
import type { HandoverEndpoint } from './endpoint.js';

/**
 * A topic bridge whose own bus reaches both processes of a handover (Redis:
 * each process has its own subscription) cannot let the two deliver
 * independently: a subscriber in flight would miss, repeat or reorder
 * publishes. A bridge that implements this interface takes part in the
 * handover instead (redis/handover-forward.ts, redis/handover-fence.ts):
 * the old process forwards what it receives down the handover channel,
 * behind the connections, until both agree on a cut point in the bus's own
 * order, and the new process delivers only what is forwarded until then.
 *
 * The two bridges agree first. In `server.handover()` the new process's
 * `hello` goes up with 'handover-ready', and the old one takes part only when
 * its `handoverKey` is the same (the same bus and channel names); its own
 * hello then comes down with 'handover-listener', before any connection can
 * reach the new process. In a cluster's reload the successor starts later
 * than the old worker's pipe to it: the old worker makes up the successor's
 * hello (`successorHello`) and writes its own, with that, first on the pipe
 * ('handover-bridge-hello'); the successor's bridge holds its own stream from
 * its start (`awaitingHandover`) until the pipe's first message says whether
 * the old worker takes part. Without that agreement (another bridge, an older
 * version on either side) the handover is as before: ForwardBridge is not
 * attached either (a server has one bridge), and the guide says what holds.
 */
export interface HandsOverTopics extends TopicBridge {
  /** Equal on both sides when the two bridges can take part together (kind, bus, channel names). */
  readonly handoverKey: string;
  /** What the other side needs to know of this one (JSON), sent with the handover's first messages. */
  handoverHello(): object;
  /** The old process: connections are about to move down `link`; `hello` is the new process's. Null: not taking part. */
  handingOver(link: BridgeLink, hello: object): BridgeHandover | null;
  /** The new process: its old one takes part (`hello` is the old process's); called before anything moves. */
  takingOver(link: BridgeLink, hello: object): BridgeHandover | null;
  /** The old process, for a successor not started yet: the hello it will have (it takes it from ours). */
  successorHello(): object;
  /** A successor, from its start: hold what the bus brings until `takingOver` or `noHandover`. */
  awaitingHandover(): void;
  /** A successor whose old process does not take part: deliver what was held, and go on as without a handover. */
  noHandover(): void;
}

/** What the handover gives a bridge taking part. */
export interface BridgeLink {
  /** Sends `body` to the other process, in order with the connections (down) or the acknowledgements (up). */
  send(body: object): void;
  /** The new process: who this server's own publishes reach here (the reactor's `localOnly`; null: everyone). */
  localOnly(keep: ((conn: object) => boolean) | null): void;
  /** The new process: delivers a publish (null topic: a broadcast) to the local connections `keep` accepts. */
  deliverSome(topic: string | null, data: SendData, isBinary: boolean, keep: (conn: object) => boolean): void;
}

/** One handover, as the bridge sees it. */
export interface BridgeHandover {
  /** A body the other process's bridge sent. */
  received(body: object): void;
  /** The new process adopted `conn`. */
  adopted(conn: object): void;
  /** The old process passed its last connection: resolves once the bridge needs the channel no more (or gave up). */
  finish(): Promise<void>;
  /** The channel is gone (`failed`: the handover failed, the old process keeps its connections). */
  ended(failed: boolean): void;
}

function handsOver(bridge: TopicBridge | null): bridge is HandsOverTopics {
  return bridge !== null && typeof (bridge as Partial<HandsOverTopics>).handingOver === 'function';
}

/** The new process's word in 'handover-ready', when its bridge can take part. */
export function bridgeHello(endpoint: HandoverEndpoint): { key: string; hello: object } | undefined {
  const bridge = endpoint.bridge;
  return handsOver(bridge) ? { key: bridge.handoverKey, hello: bridge.handoverHello() } : undefined;
}

/** A bridge taking part, over one channel: its handover, its hello for the other side, and the listener to take off. */
export interface Joined {
  part: BridgeHandover;
  hello: object;
  /** Takes the bridge's listener off the channel. */
  leave(): void;
}

/**
 * Joins the server's bridge to a handover over `channel`: the old process's
 * (`side` 'old', with the new process's `word` from 'handover-ready') or the
 * new one's (`side` 'new', with the old bridge's hello from 'handover-listener').
 * Null when the bridges do not agree: the handover goes on without them.
 */
export function joinBridge(
  endpoint: HandoverEndpoint,
  channel: Channel,
  side: 'old' | 'new',
  word: unknown,
): Joined | null {
  const bridge = endpoint.bridge;
  if (!handsOver(bridge) || typeof word !== 'object' || word === null) return null;
  const reporter = endpoint.reactor.reporter;
  const link: BridgeLink = {
    send: (body) => void (channel.connected && channel.send({ lightws: 'handover-bridge', body })),
    localOnly: (keep) => void (endpoint.reactor.localOnly = keep),
    deliverSome: (topic, data, isBinary, keep) => endpoint.deliverSome(topic, data, isBinary, keep),
  };
  let part: BridgeHandover | null;
  try {
    if (side === 'new') part = bridge.takingOver(link, word);
    else {
      const said = word as { key?: unknown; hello?: unknown };
      if (said.key !== bridge.handoverKey || typeof said.hello !== 'object' || said.hello === null) return null;
      part = bridge.handingOver(link, said.hello);
    }
  } catch (error) {
    reporter.report(error, undefined);
    return null;
  }
  if (part === null) return null;
  const joined = part;
  const onMessage = (message: HandoverMessage): void => {
    if (message?.lightws !== 'handover-bridge') return;
    const body = (message as { body?: unknown }).body;
    if (typeof body !== 'object' || body === null) return;
    try {
      joined.received(body);
    } catch (error) {
      reporter.report(error, undefined); // never into the process from a channel event
    }
  };
  // The other process gone: nothing more comes (the bridge falls back, bounded), or nobody takes what we send.
  const onGone = (): void => joined.ended(side === 'old');
  channel.on('message', onMessage);
  channel.on('disconnect', onGone);
  return {
    part,
    hello: bridge.handoverHello(),
    leave: () => {
      channel.off('message', onMessage);
      channel.off('disconnect', onGone);
    },
  };
}

/**
 * A cluster's old worker, its pipe to the successor just made: our hello
 * (with the one the successor will take) goes first on the pipe, and our
 * bridge takes part from now, before the successor exists.
 */
export function announceBridge(endpoint: HandoverEndpoint, pipe: Channel): Joined | null {
  const bridge = endpoint.bridge;
  if (!handsOver(bridge)) return null;
  const successor = bridge.successorHello();
  pipe.send({
    lightws: 'handover-bridge-hello',
    key: bridge.handoverKey,
    hello: { ...bridge.handoverHello(), yours: successor },
  });
  return joinBridge(endpoint, pipe, 'old', { key: bridge.handoverKey, hello: successor });
}

/**
 * A cluster's successor with its old worker's pipe, from its start: our
 * bridge holds its stream until the pipe's first message, which is the old
 * worker's hello when it takes part (then ours follows it), or anything else
 * when it does not (then what was held is delivered). `joined()`: ours, once.
 */
export function awaitBridge(endpoint: HandoverEndpoint, pipe: Channel): { joined(): Joined | null } | null {
  const bridge = endpoint.bridge;
  if (!handsOver(bridge)) return null;
  let joined: Joined | null = null;
  bridge.awaitingHandover();
  const first = (message?: HandoverMessage): void => {
    pipe.off('message', first);
    pipe.off('disconnect', first);
    if (message?.lightws === 'handover-bridge-hello' && message.key === bridge.handoverKey)
      joined = joinBridge(endpoint, pipe, 'new', message.hello);
    if (joined === null) bridge.noHandover();
  };
  pipe.on('message', first);
  pipe.on('disconnect', first);
  return { joined: () => joined };
}
