import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { DEFAULT_RELAY_MAX_BUFFERED_BYTES, TopicRelay } from './cluster-bridge.js';
import {
  DEFAULT_SCRAPE_TIMEOUT_MS,
  startWorker,
  WORKER_ENV,
  type ClusterMessage as Message,
} from './cluster-worker.js';
import { formatFamily } from '../protocol/prometheus-text.js';
import { renderMetrics } from '../reactor/observe/metrics.js';
import type { StatsSnapshot } from '../api/stats-snapshot.js';
import type { CloseResult, Server } from '../server.js';
import type { ListenAddress } from '../transport/listen-address.js';
import { requireRawBindings, type RawTcpHandle } from '../transport/raw-bindings.js';
import { bindServerHandle, boundAddress, reusePortSupported } from '../transport/server-handle.js';
import type { ReloadOptions, ReloadResult } from '../api/handover-options.js';
import { reloadWorkers } from './reload.js';
import { sizesYoungGeneration } from '../young-generation.js';
import type { RawPipe } from '../handover/pipe-channel.js';
import { HANDOVER_FD, HANDOVER_FD_ENV, stdioOf } from '../handover/pipe-pair.js';
/** A worker's semi-space (MiB) unless the flags say otherwise: see ClusterOptions.execArgv. */
const WORKER_SEMI_SPACE = '--max-semi-space-size=1';

/** The workers' Node flags: see ClusterOptions.execArgv. */
export function workerExecArgv(given: readonly string[] | undefined, own: readonly string[]): string[] {
  if (given !== undefined) return [...given];
  return sizesYoungGeneration(own) ? [...own] : [...own, WORKER_SEMI_SPACE];
}

export interface ClusterOptions {
  /** Worker processes, each with its own reactor. */
  workers: number;
  port: number;
  host?: string;
  /**
   * Each worker binds its own socket to the port with SO_REUSEPORT, and the
   * kernel spreads connections evenly among them (by a hash of each
   * connection's addresses). Otherwise the primary's one socket is passed to
   * every worker: each connection wakes them all, the busiest wins most
   * accepts, and the spread is uneven. Default: true where Node supports it
   * (22.12+, 23.1+, on Linux and the BSDs); true where it does not throws.
   */
  reusePort?: boolean;
  /**
   * Node flags for the workers. Default: the primary's own (process.execArgv)
   * and, unless they size it themselves, --max-semi-space-size=1: V8 grows
   * the young generation to 16 MiB per semi-space under the handshakes'
   * garbage and keeps it resident, ~2 KiB per idle connection at 17k per
   * worker (docs/benchmarks.md, the million). Given, used as is.
   */
  execArgv?: readonly string[];
  /** Restart a worker that dies after this long; 0 = do not. Default 1000. */
  restartDelayMs?: number;
  /** Told when a worker exits unexpectedly (and whether it is being restarted). */
  onWorkerExit?(info: { worker: number; code: number | null; signal: string | null; restarting: boolean }): void;
  /**
   * Carry topics across the workers through the primary (cluster-bridge.ts):
   * a publish on one worker reaches the subscribers on every worker. Each
   * worker's server gets this bridge, so it cannot have another (use
   * `redisTopics` instead to reach other machines too). Default false.
   */
  relayTopics?: boolean;
  /**
   * How long a scrape of `metricsPath` (and `metrics()`) waits for the
   * workers' stats. A worker that has not answered by then (hung, dying,
   * restarting) is left out of the sums and marked
   * `lightws_worker_up{worker="N"} 0`; the scrape still answers 200 with the
   * others, well within Prometheus's default 10 s scrape timeout. Default 500.
   */
  scrapeTimeoutMs?: number;
  /**
   * With relayTopics: bytes the primary holds for one worker, relayed but not
   * yet written to its IPC channel (a worker that is stopped or busy stops
   * reading it). Past it, the primary drops what it would relay to that
   * worker (the newest: what is queued already is the worker's to read) and
   * counts it (`lightws_relay_dropped_messages_total{worker}`): that
   * worker's subscribers miss those publishes. Default 8 MiB.
   */
  relayMaxBufferedBytes?: number;
}

/** Stats summed over the workers, plus each worker's connection count (how evenly the kernel spread them). */
export interface ClusterStats extends StatsSnapshot {
  /** How many workers answered within scrapeTimeoutMs: the sums are theirs. */
  workers: number;
  /** The connections of each worker that answered, in worker order. */
  connectionsPerWorker: number[];
  /** The indexes of the workers that did not answer within scrapeTimeoutMs (hung, dying or restarting). */
  missing: number[];
  restarts: number;
}

export interface ClusterPrimary {
  readonly role: 'primary';
  readonly address: ListenAddress;
  /** Whether each worker has its own SO_REUSEPORT socket (else they share the primary's). */
  readonly reusePort: boolean;
  stats(): Promise<ClusterStats>;
  /** The live workers' process ids, by worker index (undefined while one restarts). */
  pids(): (number | undefined)[];
  /** Graceful shutdown of every worker (each closes with 1001 and waits up to timeoutMs); new connections are refused from its start. */
  close(options?: { timeoutMs?: number }): Promise<CloseResult>;
  /**
   * Every worker's metrics in the Prometheus text format: each series per
   * worker (`worker="0"`, ...) and summed (`worker="all"`), and
   * `lightws_worker_up` for each worker: 0 for one that did not answer within
   * scrapeTimeoutMs. What a worker's `metricsPath` serves too, whichever
   * worker the scrape lands on.
   */
  metrics(): Promise<string>;
  /**
   * Replaces each worker by a fresh one, passing it every connection (docs/guides/deploy-and-reload.md,
   * reload.ts); `concurrency` slots at a time (default: the cores, `os.availableParallelism()`).
   */
  reload(options?: ReloadOptions): Promise<ReloadResult>;
}

export interface ClusterWorker<UserData> {
  readonly role: 'worker';
  readonly index: number;
  readonly server: Server<UserData>;
}

/**
 * Runs one port on N processes, node:cluster style: the same script runs as
 * the primary and, re-executed, as each worker. The primary binds the port
 * (holding it while workers come and go) but accepts nothing itself. With
 * SO_REUSEPORT (`reusePort`) each worker binds and listens on a socket of
 * its own and the kernel balances among them; without it (Node 20) the
 * primary passes its raw handle to every worker over IPC and each listens
 * on its copy. The primary restarts workers that die, sums their stats and
 * shuts them down.
 *
 *   const node = await startCluster({ workers: 4, port: 9001 }, () => createServer({ message(c, d, b) { c.send(d, b); } }));
 *   if (node.role === 'primary') process.on('SIGINT', () => node.close().then(() => process.exit(0)));
 */
export async function startCluster<UserData = unknown>(
  options: ClusterOptions,
  createWorkerServer: () => Server<UserData>,
): Promise<ClusterPrimary | ClusterWorker<UserData>> {
  const index = process.env[WORKER_ENV];
  if (index !== undefined && process.send !== undefined) return startWorker(Number(index), createWorkerServer, options);
  if (!Number.isInteger(options.workers) || options.workers < 1)
    throw new RangeError('workers must be a positive integer');
  const scrape = options.scrapeTimeoutMs;
  if (scrape !== undefined && !(Number.isInteger(scrape) && scrape > 0))
    throw new RangeError(`scrapeTimeoutMs must be a positive integer (ms), not ${String(scrape)}`);
  const relayMax = options.relayMaxBufferedBytes;
  if (relayMax !== undefined && !(Number.isSafeInteger(relayMax) && relayMax > 0))
    throw new RangeError(`relayMaxBufferedBytes must be a positive integer (bytes), not ${String(relayMax)}`);
  const raw = requireRawBindings();
  const reusePort = options.reusePort ?? reusePortSupported(raw);
  // With reusePort the primary's socket is never listened on: it only keeps the port (port 0 picks it).
  const handle = await bindServerHandle(raw, options.port, options.host, reusePort);
  const primary = new Primary(handle, options, reusePort);
  await primary.ready;
  return primary;
}

class Primary implements ClusterPrimary {
  readonly role = 'primary';
  readonly address: ListenAddress;
  private readonly workers: (ChildProcess | undefined)[];
  /** Requests waiting for a worker's reply, by id: called with the reply, or with undefined when the worker exits first. */
  private readonly replies = new Map<number, { worker: number; settle: (message: Message | undefined) => void }>();
  private nextId = 1;
  private closing = false;
  private restarts = 0;
  private readonly relay: TopicRelay;
  readonly ready: Promise<void>;
  /** Old workers passing their connections on in a reload: their exit is expected, their topics their successor's. */
  readonly retiring = new Set<ChildProcess>();
  readonly reloading = new Set<number>();

  constructor(
    private readonly handle: RawTcpHandle,
    private readonly options: ClusterOptions,
    readonly reusePort: boolean,
  ) {
    this.address = boundAddress(handle);
    this.workers = new Array<ChildProcess | undefined>(options.workers).fill(undefined);
    this.relay = new TopicRelay(this.workers, options.relayMaxBufferedBytes ?? DEFAULT_RELAY_MAX_BUFFERED_BYTES);
    this.ready = Promise.all(this.workers.map((_, i) => this.spawn(i))).then(() => undefined);
  }

  async stats(): Promise<ClusterStats> {
    const answered = await this.snapshots(this.options.scrapeTimeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS);
    const snapshots = answered.map((s) => s.stats);
    const total = sum(snapshots);
    const up = new Set(answered.map((s) => s.worker));
    return {
      ...total,
      workers: snapshots.length,
      connectionsPerWorker: snapshots.map((s) => s.connections),
      missing: [...this.workers.keys()].filter((worker) => !up.has(worker)),
      restarts: this.restarts,
    };
  }

  async metrics(): Promise<string> {
    const snapshots = await this.snapshots(this.options.scrapeTimeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS);
    const total = sum(snapshots.map((s) => s.stats));
    const answered = new Set(snapshots.map((s) => s.worker));
    return (
      renderMetrics([
        { labels: { worker: 'all' }, stats: total },
        ...snapshots.map(({ worker, stats }) => ({ labels: { worker: String(worker) }, stats })),
      ]) +
      formatFamily(
        'lightws_worker_up',
        'gauge',
        'Whether the worker answered this scrape within scrapeTimeoutMs (1), or not: hung, dying or restarting (0); the sums cover those that answered.',
        this.workers.map((_, worker) => ({ labels: { worker: String(worker) }, value: answered.has(worker) ? 1 : 0 })),
      ) +
      (this.options.relayTopics === true ? this.relay.metrics() : '')
    );
  }

  /** Every live worker's stats that came within `timeoutMs`, with its index. */
  private async snapshots(timeoutMs?: number): Promise<{ worker: number; stats: StatsSnapshot }[]> {
    const all = await this.ask((id) => ({ lightws: 'stats', id }), timeoutMs);
    return all.flatMap(({ worker, message }) => {
      const stats = (message as { stats?: StatsSnapshot }).stats;
      return stats === undefined ? [] : [{ worker, stats }];
    });
  }

  reload(options: ReloadOptions = {}): Promise<ReloadResult> {
    return reloadWorkers(
      {
        workers: this.workers,
        retiring: this.retiring,
        reloading: this.reloading,
        relay: this.relay,
        spawn: (index, pipe) => this.spawn(index, pipe),
        relisten: (index) => this.listen(this.workers[index]!, index),
      },
      options.timeoutMs ?? 10_000,
      options.concurrency ?? availableParallelism(),
    );
  }

  pids(): (number | undefined)[] {
    return this.workers.map((worker) => worker?.pid);
  }

  async close(options: { timeoutMs?: number } = {}): Promise<CloseResult> {
    this.closing = true;
    // First: while any process holds the shared listening socket open, the kernel completes new
    // connections into its backlog, where they wait for a worker that will never accept them.
    // Closed by every holder (each worker closes its copy as its drain begins), it refuses them.
    this.handle.close();
    const replies = await this.ask(
      (id) => ({ lightws: 'close', id, timeoutMs: options.timeoutMs }),
      (options.timeoutMs ?? 5000) + 5000,
    );
    for (const worker of this.workers) if (worker?.exitCode === null) worker.kill();
    const results = replies.map(
      ({ message }) => (message as { result?: CloseResult }).result ?? { closed: 0, terminated: 0 },
    );
    return {
      closed: results.reduce((n, r) => n + r.closed, 0),
      terminated: results.reduce((n, r) => n + r.terminated, 0),
    };
  }

  /** `pipe`: a reload's handover pipe for this worker (the old worker's other end, reload.ts), closed here once it has it. */
  private spawn(index: number, pipe?: unknown): Promise<void> {
    const given = pipe === undefined ? null : stdioOf(pipe as RawPipe);
    let worker: ChildProcess;
    try {
      worker = fork(process.argv[1]!, process.argv.slice(2), {
        env: {
          ...process.env,
          [WORKER_ENV]: String(index),
          ...(given === null ? {} : { [HANDOVER_FD_ENV]: String(HANDOVER_FD) }),
        },
        execArgv: workerExecArgv(this.options.execArgv, process.execArgv),
        stdio: given === null ? 'inherit' : ['inherit', 'inherit', 'inherit', 'ipc', given],
      });
    } finally {
      given?.destroy();
    }
    this.workers[index] = worker;
    // A write to a worker that has just died fails with EPIPE, emitted as 'error' on its ChildProcess
    // (`connected` stays true until the channel's end is read). Its exit is handled below; unheard, the
    // error would be thrown into the primary.
    worker.on('error', () => {});
    worker.on('message', (message: Message) => {
      // Only the slot's worker speaks for the slot's topics. A retiring one's close as its connections leave,
      // while its successor holds them open; and its last messages can be read after its exit (when it is no
      // longer `retiring`): counted then, its topics' last close took the slot off them, and its successor's
      // subscribers got nothing more (seen at 1M). A dead worker's late ones would put a slot back on them.
      if (this.workers[index] !== worker && (message as { lightws?: string })?.lightws === 'topic') return;
      if (this.relay.handle(index, message, worker)) return;
      if ((message?.lightws === 'stats' || message?.lightws === 'close') && this.replies.has(message.id))
        this.replies.get(message.id)!.settle(message);
      else if (message?.lightws === 'metrics') {
        void this.metrics().then((text) => {
          if (worker.connected) worker.send({ lightws: 'metrics', id: message.id, text } satisfies Message);
        });
      }
    });
    worker.on('exit', (code, signal) => {
      if (this.retiring.delete(worker)) return;
      if (this.workers[index] === worker) this.workers[index] = undefined;
      // Whatever it was asked goes unanswered: a scrape need not wait for its timeout.
      for (const pending of [...this.replies.values()]) if (pending.worker === index) pending.settle(undefined);
      this.relay.forget(index);
      if (this.closing || this.reloading.has(index)) return;
      const delay = this.options.restartDelayMs ?? 1000;
      const restarting = delay > 0;
      this.options.onWorkerExit?.({ worker: index, code, signal, restarting });
      if (restarting) {
        this.restarts++;
        // Not once close() has begun: the new worker would listen again while the others drain.
        setTimeout(() => void (this.closing ? undefined : this.spawn(index).catch(() => {})), delay).unref();
      }
    });
    return this.listen(worker, index);
  }

  /** Gives `worker` its listening socket (its own SO_REUSEPORT one, or ours) and resolves once it listens. */
  private listen(worker: ChildProcess, index: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onExit = (): void => reject(new Error(`worker ${index} exited before it listened`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      const onMessage = (message: Message): void => {
        if (message?.lightws !== 'listening') return;
        worker.off('message', onMessage).off('exit', onExit); // not 'error': a dead worker's EPIPE must not throw
        if (message.error === undefined) resolve();
        else reject(new Error(`worker ${index} could not listen: ${message.error}`));
      };
      worker.on('message', onMessage);
      if (this.reusePort)
        worker.send({
          lightws: 'listen',
          bind: { address: this.address.address, port: this.address.port },
        } satisfies Message);
      else worker.send({ lightws: 'listen' } satisfies Message, this.handle as never);
    });
  }

  /**
   * Sends a request to every live worker and collects one reply from each,
   * with the worker's index: those that came by the timeout, or before the
   * others exited.
   */
  private ask(make: (id: number) => Message, timeoutMs = 5000): Promise<{ worker: number; message: Message }[]> {
    const live = [...this.workers.entries()].filter(
      (entry): entry is [number, ChildProcess] => entry[1] !== undefined && entry[1].connected,
    );
    return Promise.all(
      live.map(
        ([index, worker]) =>
          new Promise<{ worker: number; message: Message } | undefined>((resolve) => {
            const id = this.nextId++;
            const settle = (message: Message | undefined): void => {
              clearTimeout(timer);
              this.replies.delete(id);
              resolve(message === undefined ? undefined : { worker: index, message });
            };
            const timer = setTimeout(() => settle(undefined), timeoutMs);
            this.replies.set(id, { worker: index, settle });
            worker.send(make(id));
          }),
      ),
    ).then((all) => all.filter((m) => m !== undefined));
  }
}

/** Adds up numeric fields (and nested objects of them) across snapshots. */
function sum<Snapshot extends object>(snapshots: readonly Snapshot[]): Snapshot {
  return sumFields(snapshots) as Snapshot; // every worker's snapshot has the same shape: so has their sum
}

function sumFields(snapshots: readonly object[]): Record<string, unknown> {
  const total: Record<string, unknown> = {};
  for (const snapshot of snapshots) {
    for (const [key, value] of Object.entries(snapshot)) {
      if (typeof value === 'number') total[key] = ((total[key] as number | undefined) ?? 0) + value;
      else if (value !== null && typeof value === 'object')
        total[key] = sumFields(
          [total[key] ?? {}, value].filter((v) => Object.keys(v as object).length > 0) as object[],
        );
      else total[key] = value;
    }
  }
  return total;
}
