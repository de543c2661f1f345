import type { BufferPool } from '../pool/buffer-pool.js';
import type { ConnectionRecord } from './connection/connection-record.js';
import type { ConnectionRegistry } from './connection/registry.js';
import type { TimerWheel } from './lifecycle/timer-wheel.js';
import type { ReactorStats } from './observe/stats.js';
import type { Reporter } from './observe/reporter.js';
import type { ResolvedOptions } from './options.js';
import type { Topics } from './topics/topics.js';

/** The two ends of a WebSocket (RFC 6455 §1.2): a client masks what it sends, a server never does. */
export type Role = 'server' | 'client';

/**
 * What every part of one reactor shares, in one place (uWebSockets keeps the
 * same in its LoopData and WebSocketContextData): the role, the settings, the
 * pool, the counters, the registry, the log, the topics and the timer wheel.
 *
 * The reactor builds it first and never changes it; each part takes it whole,
 * then the parts it calls by name (`new Lifecycle(ctx, { writer }, ...)`), so
 * no constructor takes a dozen positional parameters and no part is wired
 * after it is built. The calls that go back up (what the writer reports, a
 * wheel entry expiring, a topic opening) go to the reactor, which implements
 * those interfaces itself (reactor.ts), never to a field set later.
 */
export interface ReactorContext {
  readonly role: Role;
  readonly options: ResolvedOptions;
  readonly pool: BufferPool;
  readonly stats: ReactorStats;
  readonly registry: ConnectionRegistry;
  readonly reporter: Reporter;
  readonly topics: Topics;
  readonly wheel: TimerWheel<ConnectionRecord>;
}
