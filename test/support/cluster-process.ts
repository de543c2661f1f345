/**
 * Starts test/support/cluster-server.ts in a process of its own and talks to its primary over
 * stdin/stdout: the cluster tests' way to run a real primary with real workers.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ClusterOptions, ServerOptions } from '../../src/index.js';

const script = fileURLToPath(new URL('./cluster-server.js', import.meta.url));

export async function startClusterProcess(
  workers: number,
  options: Partial<ClusterOptions> = {},
  server: Pick<ServerOptions, 'transport' | 'metricsPath' | 'healthPath' | 'closeTimeoutMs'> & { rooms?: boolean } = {},
) {
  const child = spawn(process.execPath, [script, String(workers), JSON.stringify(options), JSON.stringify(server)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => JSON.parse((await lines.next()).value as string) as T;
  const first = await next<{ port: number; pids: number[]; reusePort: boolean }>();
  /** Sends `command` ('stats', 'pids', 'close') and waits for the primary's answer. */
  const ask = async <T>(command: string): Promise<T> => {
    child.stdin.write(`${command}\n`);
    return next<T>();
  };
  return { child, port: first.port, pids: first.pids, reusePort: first.reusePort, ask };
}
