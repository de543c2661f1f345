/**
 * A cluster of rooms servers bridged to Redis, for test/redis/cluster.test.ts:
 * argv = workers, Redis URL, library. Each worker has its own server, bridge and Redis clients.
 * The primary prints {"port"} and answers stdin lines: 'stats' → ClusterStats, 'close' →
 * CloseResult (then exits). Workers print nothing.
 */
import { createInterface } from 'node:readline';
import { createServer, startCluster } from '../../src/index.js';
import { redisTopics } from '../../src/redis/index.js';
import { redisClient, type Library } from './redis-clients.js';
import { rooms } from './topic-nodes.js';

const [workers, url, library] = [Number(process.argv[2]), process.argv[3]!, process.argv[4] as Library];
const node = await startCluster({ workers, port: 0, host: '127.0.0.1', restartDelayMs: 0 }, () => {
  const server = createServer({ ...rooms, logLevel: 'silent', transport: 'handle' });
  redisTopics(server, { publisher: redisClient(library, url).client });
  return server;
});
if (node.role === 'primary') {
  const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
  reply({ port: node.address.port });
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'stats') void node.stats().then(reply);
    else if (line === 'close')
      void node.close({ timeoutMs: 5000 }).then((result) => {
        reply(result);
        process.exit(0);
      });
  });
}
