import { startCluster, type ListenAddress, type ReloadResult, type Server } from '../index.js';

/** What the CLI runs: a server made by `make`, its start-up line, what to close after it. */
export interface Served {
  /** Makes the server (once here, once in each worker in cluster mode). */
  make(): Server;
  /** The line printed once it listens: where it is reachable, and `detail` ('transport: handle', '2 workers'). */
  startup(address: ListenAddress, detail: string): string;
  /** Extra to close after the server (a Redis client). */
  close?(): Promise<void>;
}

/**
 * A URL a client on this machine can open, and whether the server is bound
 * to all interfaces: then the address itself is no place to connect to, and
 * loopback (which both a dual-stack and an IPv4-only wildcard socket answer) is shown.
 */
export function reachable(scheme: string, address: ListenAddress): { url: string; everywhere: boolean } {
  if (address.address === '::' || address.address === '0.0.0.0')
    return { url: `${scheme}://127.0.0.1:${address.port}`, everywhere: true };
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `${scheme}://${host}:${address.port}`, everywhere: false };
}

/**
 * Closes on the first SIGINT/SIGTERM (a second one leaves at once), then exits 0. `what` says
 * what is being closed, asked at the signal (the count of connections then, not at start-up).
 */
function onSignals(what: () => string, close: () => Promise<{ closed: number; terminated: number }>): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write(`${signal}: closing ${what()}\n`);
    void close().then((result) => {
      process.stdout.write(`closed ${result.closed}, terminated ${result.terminated}\n`);
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * One process: listen, print the start-up line, close gracefully on a
 * signal. SIGHUP hands every connection to a new process running the code
 * on disk (server.handover()), which prints its own start-up line; this one
 * then ends, or carries on if the new one failed.
 */
export async function serveOne(served: Served, port: number, host: string | undefined): Promise<void> {
  const server = served.make();
  const address = await server.listen(port, host);
  process.stdout.write(`${served.startup(address, `transport: ${server.transport}`)}\n`);
  const close = async (): Promise<{ closed: number; terminated: number }> => {
    const result = await server.close();
    await served.close?.();
    return result;
  };
  onSignals(() => `${server.connections} connections`, close);
  onReload(async () => {
    const result = await server.handover();
    if (result.error !== undefined) return `handover failed, carrying on: ${result.error}; kept ${result.kept}`;
    await close();
    setImmediate(() => process.exit(0));
    return `handed over to pid ${result.pid}: moved ${result.moved}, closed 1012 ${result.refused}, in ${result.durationMs} ms`;
  });
}

/** SIGHUP: a zero-downtime reload (docs/guides/deploy-and-reload.md), one at a time; its outcome printed. */
function onReload(reload: () => Promise<string>): void {
  let reloading = false;
  process.on('SIGHUP', () => {
    if (reloading) return;
    reloading = true;
    process.stdout.write('SIGHUP: reloading\n');
    void reload()
      .then(
        (line) => process.stdout.write(`${line}\n`),
        (error: Error) => process.stderr.write(`lightws: reload failed: ${error.message}\n`),
      )
      .finally(() => (reloading = false));
  });
}

/** `--workers N`: the primary binds and supervises; each worker serves the same socket. */
export async function serveCluster(
  served: Served,
  workers: number,
  port: number,
  host: string | undefined,
  relayTopics: boolean,
): Promise<void> {
  const node = await startCluster(
    {
      workers,
      port,
      host,
      relayTopics,
      onWorkerExit: ({ worker, code, signal }) =>
        process.stderr.write(`lightws: worker ${worker} exited (${signal ?? code}); restarting\n`),
    },
    () => served.make(),
  );
  if (node.role === 'worker') return;
  process.stdout.write(`${served.startup(node.address, `${workers} workers`)}\n`);
  onSignals(
    () => 'all workers',
    () => node.close(),
  );
  onReload(async () => reloadLine(await node.reload()));
}

/**
 * The line SIGHUP prints for a cluster reload. A slot that failed says why: that is the operator's first
 * question, and its worker kept every connection it had not handed over (counted in `kept` only when the
 * handover had started).
 */
export function reloadLine(result: ReloadResult): string {
  const failed = result.workers.flatMap((worker, index) =>
    worker.error === undefined ? [] : [`worker ${index}: ${worker.error}`],
  );
  const why =
    failed.length > 0 ? ` (${failed.length} failed to hand over and kept their connections: ${failed.join('; ')})` : '';
  return `reloaded: moved ${result.moved}, closed 1012 ${result.refused}, kept ${result.kept}${why} in ${result.durationMs} ms`;
}
