/**
 * A child-process echo server for the accept-limit tests, run under a low
 * `ulimit -n`. Argv: transport, maxConnections ('auto' = from the fd limit).
 * Prints its port and cap as JSON, then answers 'stats' lines on stdin.
 */
import { createInterface } from 'node:readline';
import { createServer, type Server, type TransportName } from '../../src/index.js';
import type { Reactor } from '../../src/reactor/reactor.js';

/** The cap the server computed from the fd limit is the reactor's, which the public API does not show. */
const internals = (server: Server<unknown>): Reactor => (server as unknown as { reactor: Reactor }).reactor;

const [transport, cap] = process.argv.slice(2) as [TransportName, string];
const server = createServer({
  transport,
  logLevel: 'silent',
  maxConnections: cap === 'auto' ? undefined : Number(cap),
  message: (conn, data, isBinary) => void conn.send(data, isBinary),
});
const address = await server.listen(0, '127.0.0.1');
process.stdout.write(
  `${JSON.stringify({ port: address.port, maxConnections: internals(server).options.maxConnections })}\n`,
);
createInterface({ input: process.stdin }).on('line', () => {
  const stats = server.stats();
  process.stdout.write(`${JSON.stringify({ connections: stats.connections, refused: stats.connectionsRefused })}\n`);
});
process.stdin.on('end', () => process.exit(0));
