/**
 * A cluster echo server for the cluster tests: argv = workers, then
 * optionally a JSON object of ClusterOptions to add (reusePort, execArgv),
 * then optionally one of server options (transport, metricsPath, healthPath; `rooms: true` for the
 * rooms handlers of topic-nodes.ts instead of echo).
 * The primary prints {"port","pids","reusePort"} and answers stdin lines:
 * 'stats' → ClusterStats, 'pids' → {"pids"}, 'close [timeoutMs]' → CloseResult (then
 * exits). Workers print nothing.
 */
import { createInterface } from 'node:readline';
import { createServer, startCluster, type ClusterOptions, type ServerOptions } from '../../src/index.js';
import { rooms } from './topic-nodes.js';

const exits: unknown[] = [];
const extra = JSON.parse(process.argv[3] ?? '{}') as Partial<ClusterOptions>;
const { rooms: withRooms, ...serverOptions } = JSON.parse(process.argv[4] ?? '{}') as ServerOptions & {
  rooms?: boolean;
};
const node = await startCluster(
  {
    workers: Number(process.argv[2] ?? 3),
    port: 0,
    host: '127.0.0.1',
    restartDelayMs: 200,
    onWorkerExit: (info) => void exits.push(info),
    ...extra,
  },
  () =>
    createServer({
      logLevel: 'silent',
      transport: 'handle',
      ...serverOptions,
      ...(withRooms === true ? rooms : { message: (conn, data, isBinary) => void conn.send(data, isBinary) }),
    }),
);
if (node.role === 'primary') {
  const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
  reply({ port: node.address.port, pids: node.pids(), reusePort: node.reusePort });
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'stats') void node.stats().then((stats) => reply({ ...stats, exits }));
    else if (line === 'pids') reply({ pids: node.pids() });
    else if (line.startsWith('close'))
      void node.close({ timeoutMs: Number(line.split(' ')[1] ?? 10000) }).then((result) => {
        reply(result);
        process.exit(0);
      });
  });
}
