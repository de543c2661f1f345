/**
 * A cluster for the reload's publish tests (test/cluster/reload.test.ts): relayTopics on, argv = workers;
 * with argv 3 and 4 (a Redis URL and client library: test/redis/redis-reload.test.ts), each worker's
 * topics go through Redis (lightws/redis) instead. RELOAD_CONCURRENCY in the environment: the reload's
 * `concurrency` (2 by default).
 * A connection's 'sub' subscribes it to topic 't' (answered 'subscribed'); 'pub N' publishes 'N' to it
 * (the publisher is not a subscriber). The primary prints {"port","pids"} and answers stdin lines:
 * 'reload' → the ReloadResult; 'close' → CloseResult, then exits.
 */
import { createInterface } from 'node:readline';
import { createServer, startCluster } from '../../src/index.js';
import { redisTopics } from '../../src/redis/index.js';
import { redisClient, type Library } from './redis-clients.js';

const [url, library] = [process.argv[3], process.argv[4] as Library | undefined];
const node = await startCluster(
  {
    workers: Number(process.argv[2] ?? 2),
    port: 0,
    host: '127.0.0.1',
    restartDelayMs: 200,
    relayTopics: url === undefined,
  },
  () => {
    const server = createServer({
      logLevel: 'silent',
      transport: 'handle',
      message(conn, data) {
        const text = data.toString();
        if (text === 'sub') {
          conn.subscribe('t');
          conn.send('subscribed');
        } else if (text.startsWith('pub ')) conn.publish('t', text.slice(4));
      },
    });
    if (url !== undefined) redisTopics(server, { publisher: redisClient(library ?? 'ioredis', url).client });
    return server;
  },
);
if (node.role === 'primary') {
  const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
  reply({ port: node.address.port, pids: node.pids() });
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'reload') void node.reload({ concurrency: Number(process.env.RELOAD_CONCURRENCY ?? 2) }).then(reply);
    else if (line === 'close')
      void node.close({ timeoutMs: 5000 }).then((result) => {
        reply(result);
        process.exit(0);
      });
  });
}
