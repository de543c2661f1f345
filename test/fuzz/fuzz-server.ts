/**
 * The fuzz target: an echo server in its own process, so that a crash shows
 * up as a crash (exit code or signal) rather than a failed assertion. Argv:
 * transport ('handle' | 'socket') and the server options as JSON. It reports
 * over IPC: { type: 'ready', port } once listening, { type: 'error', ... } for
 * every error the server reports through its `error` handler, and
 * { type: 'stats', stats } in answer to { type: 'stats' } (server.stats() plus
 * `app`: what the open/message/close handlers saw). { type: 'exit' }
 * closes it. LIGHTWS_POOL_DEBUG=1 (set by the parent) makes the pool throw on
 * a double release.
 */
import { createServer, type Connection, type ServerOptions, type TransportName } from '../../src/index.js';

const [transport, optionsJson] = process.argv.slice(2) as [TransportName, string];
const options = JSON.parse(optionsJson ?? '{}') as ServerOptions;
const send = (message: unknown): void => {
  if (process.connected) process.send!(message);
};

// The lifecycle the application sees: every `open` gets exactly one `close`, and
// messages arrive only in between.
const live = new Set<Connection>();
const app = { open: 0, opens: 0, closes: 0, errorCount: 0, errors: [] as string[] };
const lifecycleError = (what: string): void => {
  app.errorCount++;
  if (app.errors.length < 10) app.errors.push(what);
};

const server = createServer({
  ...options,
  transport,
  logLevel: 'warn',
  open(conn) {
    if (live.has(conn)) lifecycleError('open called twice for a connection');
    live.add(conn);
    app.opens++;
  },
  message(conn, data, isBinary) {
    if (!live.has(conn)) lifecycleError('message on a connection that is not open');
    conn.send(data, isBinary);
  },
  close(conn) {
    if (!live.delete(conn)) lifecycleError('close without open');
    app.closes++;
  },
  error(error, conn) {
    send({ type: 'error', message: error.message, stack: error.stack ?? '', remote: conn?.remoteAddress ?? '' });
  },
});

const address = await server.listen(0, '127.0.0.1');
process.on('message', (message: { type: string }) => {
  if (message.type === 'stats') send({ type: 'stats', stats: { ...server.stats(), app: { ...app, open: live.size } } });
  else if (message.type === 'exit') {
    void server.close({ timeoutMs: 500 }).then(() => process.exit(0));
  }
});
// The parent went away without saying goodbye: do not linger.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', port: address.port, transport: server.transport });
