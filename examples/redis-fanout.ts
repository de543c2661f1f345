// Rooms across servers through Redis: start this twice (two ports, or two machines) on one Redis,
// and what a client sends reaches its room on every server.
//   REDIS_URL=redis://127.0.0.1:6379 PORT=9001 node examples/redis-fanout.js
import { createServer } from 'lightws';
import { redisTopics } from 'lightws/redis';
import { createClient } from 'redis'; // node-redis; an ioredis client works the same way

const server = createServer({
  open(conn, request) {
    conn.data = request.url; // the room: the request path
    conn.subscribe(request.url);
  },
  message(conn, data, isBinary) {
    if (typeof conn.data === 'string') conn.publish(conn.data, data, isBinary); // everyone in the room, everywhere, but the sender
  },
});
const publisher = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
const topics = redisTopics(server, { publisher });
await topics.ready();

const { port } = await server.listen(Number(process.env.PORT ?? 9001), process.env.HOST ?? '127.0.0.1');
console.log(`redis-fanout: server ${topics.id} listening on ws://127.0.0.1:${port}/`);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void (async () => {
      await server.close({ timeoutMs: 5000 }); // 1001 to every connection
      await topics.close();
      await publisher.quit();
      process.exit(0);
    })();
  });
