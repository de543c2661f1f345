// One port on several processes: rooms by request path, carried across the workers by the
// primary (relayTopics), no Redis needed.
//   WORKERS=4 PORT=9001 node examples/cluster.js   then ws://127.0.0.1:9001/ROOM
import { createServer, startCluster } from 'lightws';

// This file runs as the primary and, re-executed by it, as each worker.
const node = await startCluster(
  {
    workers: Number(process.env.WORKERS ?? 2),
    port: Number(process.env.PORT ?? 9001),
    host: process.env.HOST ?? '127.0.0.1',
    relayTopics: true,
  },
  () =>
    createServer({
      healthPath: '/healthz',
      open(conn, request) {
        conn.data = request.url; // the room: the request path
        conn.subscribe(request.url);
      },
      message(conn, data, isBinary) {
        if (typeof conn.data === 'string') conn.publish(conn.data, data, isBinary); // the room on every worker, but the sender
      },
    }),
);

if (node.role === 'primary') {
  console.log(`cluster: ${(await node.stats()).workers} workers listening on ws://127.0.0.1:${node.address.port}/`);
  // SIGTERM to the primary drains every worker (1001 to each connection), then exits.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void node.close({ timeoutMs: 5000 }).then(() => process.exit(0)));
}
