import { ClusterTopicBridge } from './cluster-bridge.js';
import type { StatsSnapshot } from '../api/stats-snapshot.js';
import { serveMetricsFrom, type CloseResult, type Server } from '../server.js';
import type { ListenAddress } from '../transport/listen-address.js';
import { requireRawBindings, type RawTcpHandle } from '../transport/raw-bindings.js';
import { bindServerHandle } from '../transport/server-handle.js';
import { endpointOf } from '../handover/endpoint.js';
import { serveReload } from './worker-reload.js';

/** Set in a worker's environment: its index. */
export const WORKER_ENV = 'LIGHTWS_CLUSTER_WORKER';

/** How long a scrape waits for the workers' stats by default: see ClusterOptions.scrapeTimeoutMs. */
export const DEFAULT_SCRAPE_TIMEOUT_MS = 500;

/**
 * A worker waits this much longer than scrapeTimeoutMs for the primary's
 * answer (the primary answers by scrapeTimeoutMs, whoever replied): past it
 * the primary itself is not answering, and the scrape gets 503.
 */
const PRIMARY_GRACE_MS = 1000;

/** What the primary and a worker tell each other over IPC (besides the topic relay's messages). */
export type ClusterMessage =
  /** With `bind`, the worker binds its own SO_REUSEPORT socket there; else the primary's comes with the message. */
  | { lightws: 'listen'; bind?: { address: string; port: number } }
  | { lightws: 'listening'; address?: ListenAddress; error?: string }
  | { lightws: 'stats'; id: number; stats?: StatsSnapshot }
  | { lightws: 'close'; id: number; timeoutMs?: number; result?: CloseResult }
  /** A worker asks the primary for the cluster's metrics (its metricsPath was scraped); the primary answers with `text`. */
  | { lightws: 'metrics'; id: number; text?: string };

/**
 * A worker's side of startCluster (cluster.ts): make the server, listen on
 * the socket the primary says, answer its requests (stats, close), and ask
 * it for the whole cluster's metrics when metricsPath is scraped here.
 */
export function startWorker<UserData>(
  index: number,
  createWorkerServer: () => Server<UserData>,
  options: { relayTopics?: boolean | undefined; scrapeTimeoutMs?: number | undefined },
): Promise<{ readonly role: 'worker'; readonly index: number; readonly server: Server<UserData> }> {
  const server = createWorkerServer();
  let bridge: ClusterTopicBridge | null = null;
  if (options.relayTopics === true) {
    try {
      server.attachBridge((bridge = new ClusterTopicBridge()));
    } catch (error) {
      throw new Error(
        `relayTopics: ${(error as Error).message} (the server factory attached one: use relayTopics or your own bridge, not both)`,
        { cause: error },
      );
    }
  }
  // A scrape of metricsPath, on whichever worker it lands, answers for the whole cluster.
  const waitMs = (options.scrapeTimeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS) + PRIMARY_GRACE_MS;
  let nextMetrics = 1;
  const metricsWaiters = new Map<number, (text: string) => void>();
  serveMetricsFrom(
    server,
    () =>
      new Promise<string>((resolve, reject) => {
        const id = nextMetrics++;
        const timer = setTimeout(() => {
          metricsWaiters.delete(id);
          reject(new Error('the primary did not answer'));
        }, waitMs);
        metricsWaiters.set(id, (text) => {
          clearTimeout(timer);
          metricsWaiters.delete(id);
          resolve(text);
        });
        process.send!({ lightws: 'metrics', id } satisfies ClusterMessage);
      }),
  );
  // Ctrl+C reaches the whole process group: the primary coordinates the shutdown, not us.
  process.on('SIGINT', () => {});
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  serveReload(endpointOf(server), () => server.close(), bridge);
  process.on('message', (message: ClusterMessage, handle: unknown) => {
    if (message?.lightws === 'listen') {
      const bind = message.bind;
      const own =
        bind === undefined
          ? Promise.resolve(handle as RawTcpHandle)
          : bindServerHandle(requireRawBindings(), bind.port, bind.address, true);
      void own
        .then(
          (h) => ({ address: server.serve(h) }),
          (error: Error) => ({ error: error.message }),
        )
        .then((reply) => process.send!({ lightws: 'listening', ...reply } satisfies ClusterMessage));
    } else if (message?.lightws === 'stats') {
      process.send!({ lightws: 'stats', id: message.id, stats: server.stats() } satisfies ClusterMessage);
    } else if (message?.lightws === 'close') {
      void server.close({ timeoutMs: message.timeoutMs }).then((result) => {
        process.send!({ lightws: 'close', id: message.id, result } satisfies ClusterMessage, () => process.exit(0));
      });
    } else if (message?.lightws === 'metrics') {
      metricsWaiters.get(message.id)?.(message.text ?? '');
    }
  });
  return Promise.resolve({ role: 'worker', index, server });
}
