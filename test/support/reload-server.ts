/**
 * A cluster echo server for the reload tests: argv = workers, then a JSON
 * object of ClusterOptions to add, then one of ServerOptions to add
 * (deflate, ...). Each message `m` is answered
 * `${pid} ${n} ${m}` (n counting the connection's messages in conn.data);
 * 'channel' is answered 'channel pipe' by a worker that a reload started
 * with its predecessor's pipe, else 'channel node' (not counted).
 * The primary prints {"port","pids"} and answers stdin lines: 'reload' →
 * the ReloadResult and {"pids"} after; 'close' → CloseResult, then exits;
 * 'kill-and-scrape' → {"alive"} a second after a worker was killed under the primary's writes.
 * CRASH_AFTER=k: a worker started by a reload exits as it adopts its k-th connection.
 */
import { createInterface } from 'node:readline';
import { createServer, startCluster, type ClusterOptions, type ServerOptions } from '../../src/index.js';

const extra = JSON.parse(process.argv[3] ?? '{}') as Partial<ClusterOptions>;
const serverExtra = JSON.parse(process.argv[4] ?? '{}') as Pick<ServerOptions, 'deflate' | 'deflateThreshold'>;
// Read before the server starts and takes it: the predecessor's pipe, passed on by the primary.
const pipe = process.env.LIGHTWS_HANDOVER_FD !== undefined;
const generation = Number(process.env.RELOAD_GENERATION ?? 0);
let adopted = 0;
const node = await startCluster(
  { workers: Number(process.argv[2] ?? 2), port: 0, host: '127.0.0.1', restartDelayMs: 200, ...extra },
  () =>
    createServer({
      logLevel: (process.env.LOG_LEVEL ?? 'silent') as 'silent',
      transport: 'handle',
      pingIntervalMs: 1000,
      idleTimeoutMs: 3000,
      upgrade: () => ({ data: { n: 0 } }),
      message(conn, data) {
        if (data.toString() === 'channel') return void conn.send(`channel ${pipe ? 'pipe' : 'node'}`);
        const state = conn.data;
        state.n++;
        conn.send(`${process.pid} ${state.n} ${data.toString()}`);
      },
      handover: {
        adopted: () => {
          if (++adopted === Number(process.env.CRASH_AFTER) && generation > 0) process.exit(3);
        },
      },
      ...serverExtra,
    }),
);
if (node.role === 'primary') {
  const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
  reply({ port: node.address.port, pids: node.pids() });
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'reload') {
      process.env.RELOAD_GENERATION = String(generation + 1); // the workers a reload starts know they are new
      void node.reload().then((result) => {
        reply(result);
        reply({ pids: node.pids() });
      });
    } else if (line === 'kill-and-scrape') {
      // A worker dies while the primary still writes to it: the kernel has closed its end, the primary
      // has not yet read the channel's end, so each write fails with EPIPE (an 'error' on the ChildProcess).
      process.kill(node.pids()[0]!, 'SIGKILL');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      for (let i = 0; i < 3; i++) void node.stats();
      setTimeout(() => reply({ alive: true }), 1000);
    } else if (line === 'close')
      void node.close({ timeoutMs: 5000 }).then((result) => {
        reply(result);
        process.exit(0);
      });
  });
}
