/**
 * A cluster for the reload's publish tests (test/cluster/reload.test.ts): relayTopics on, argv = workers
 * [reload concurrency].
 * A connection's 'sub' subscribes it to topic 't' (answered 'subscribed'); 'pub N' publishes 'N' to it
 * (the publisher is not a subscriber). The primary prints {"port","pids"} and answers stdin lines:
 * 'reload' → the ReloadResult; 'close' → CloseResult, then exits.
 */
import { createInterface } from 'node:readline';
import { createServer, startCluster } from '../../src/index.js';

const node = await startCluster(
  { workers: Number(process.argv[2] ?? 2), port: 0, host: '127.0.0.1', restartDelayMs: 200, relayTopics: true },
  () =>
    createServer({
      logLevel: 'silent',
      transport: 'handle',
      message(conn, data) {
        const text = data.toString();
        if (text === 'sub') {
          conn.subscribe('t');
          conn.send('subscribed');
        } else if (text.startsWith('pub ')) conn.publish('t', text.slice(4));
      },
    }),
);
if (node.role === 'primary') {
  const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
  reply({ port: node.address.port, pids: node.pids() });
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'reload') void node.reload({ concurrency: Number(process.argv[3] ?? 2) }).then(reply);
    else if (line === 'close')
      void node.close({ timeoutMs: 5000 }).then((result) => {
        reply(result);
        process.exit(0);
      });
  });
}
