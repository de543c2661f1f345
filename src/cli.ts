#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createServer, DEFAULTS, startCluster, type DeflateMode, type ListenAddress, type LogLevel, type Server, type ServerOptions, type TransportChoice } from './index.js';
import { redisTopics, type RedisTopics } from './redis/index.js';
import { loadRedisLibrary, REDIS_LIBRARY_MISSING, type RedisLibrary } from './redis/load-library.js';
import { VERSION } from './version.js';

const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];
const TRANSPORTS: readonly TransportChoice[] = ['auto', 'handle', 'socket'];
/** The CLI is a server you watch: it says when it listens and who fails. The library stays quieter (warn). */
const CLI_LOG_LEVEL: LogLevel = 'info';

const USAGE = `lightws ${VERSION}

Usage:
  lightws echo [--port 9001] [--host HOST] [--transport auto|handle|socket] [--workers N]
               [--max-message BYTES] [--deflate off|shared|window] [--tls-cert FILE --tls-key FILE]
               [--log-level ${LOG_LEVELS.join('|')}] [--redis redis://HOST:PORT]

echo: a WebSocket server that sends every text and binary message back.
--host HOST: the address to bind; without it, all interfaces (IPv6 and IPv4).
--deflate MODE: negotiate permessage-deflate (RFC 7692); see README "Compression".
--workers N: N processes share the port (cluster mode), each with its own reactor;
             cluster mode uses the handle transport and serves no TLS.
--log-level LEVEL: default ${CLI_LOG_LEVEL} here; the library's default (logLevel) is ${DEFAULTS.logLevel}.
--redis URL: rooms instead of echo, shared by every server on that Redis: each connection joins
  the topic named by its request path, and what it sends goes to everyone else in the room, on
  this server and the others (not back to the sender). Uses the 'redis' or 'ioredis' package
  installed next to your application.
SIGINT/SIGTERM close it gracefully (1001 to every connection).
Exit status: 0 after a graceful close, 2 for a usage mistake, 1 when the server cannot start.`;

/** The settings the command line gives every server it makes. */
type ServerSettings = Pick<ServerOptions, 'transport' | 'maxMessageSize' | 'deflate' | 'tls' | 'logLevel'>;

function fail(message: string): never {
  process.stderr.write(`lightws: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '9001' },
        host: { type: 'string' },
        transport: { type: 'string', default: 'auto' },
        'max-message': { type: 'string' },
        deflate: { type: 'string', default: 'off' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'log-level': { type: 'string', default: CLI_LOG_LEVEL },
        workers: { type: 'string', default: '1' },
        redis: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (positionals[0] !== 'echo' || positionals.length > 1) fail(positionals.length === 0 ? 'missing command' : `unknown command: ${positionals.join(' ')}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0–65535, not ${values.port}`);
  const maxMessageSize = values['max-message'] === undefined ? undefined : Number(values['max-message']);
  if (maxMessageSize !== undefined && !(Number.isInteger(maxMessageSize) && maxMessageSize > 0)) fail('--max-message must be a positive integer');
  const deflate = values.deflate as DeflateMode;
  if (deflate !== 'off' && deflate !== 'shared' && deflate !== 'window') fail(`--deflate must be off, shared or window, not ${values.deflate}`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) fail('--tls-cert and --tls-key go together');
  const wantsTls = values['tls-cert'] !== undefined;
  const transport = values.transport as TransportChoice;
  if (!TRANSPORTS.includes(transport)) fail(`--transport must be ${TRANSPORTS.join(', ')}, not ${values.transport}`);
  const logLevel = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) fail(`--log-level must be ${LOG_LEVELS.join(', ')}, not ${values['log-level']}`);
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) fail('--workers must be a positive integer');
  // The cluster's primary hands raw TCP handles to its workers: no TLS, no net sockets.
  if (wantsTls && transport === 'handle') fail('--tls-cert/--tls-key need --transport socket or auto (TLS runs on net sockets)');
  if (workers > 1 && wantsTls) fail('--workers cannot be combined with --tls-cert/--tls-key (cluster mode serves plain ws://)');
  if (workers > 1 && transport === 'socket') fail('--workers needs the handle transport (cluster mode passes raw handles)');
  const redisUrl = values.redis;
  if (redisUrl !== undefined && !/^rediss?:\/\/./.test(redisUrl)) fail(`--redis must be a redis:// or rediss:// URL, not ${redisUrl}`);
  const library = redisUrl === undefined ? undefined : (await loadRedisLibrary()) ?? fail(REDIS_LIBRARY_MISSING);
  // Past this point a failure is not a usage mistake: unreadable files, a port in use (exit 1).
  const tls = wantsTls ? { cert: readFileSync(values['tls-cert']!), key: readFileSync(values['tls-key']!) } : undefined;
  const options: ServerSettings = { transport, maxMessageSize, deflate, tls, logLevel };
  const echoServer = (): Server => (library === undefined ? createServer({
    ...options,
    message(conn, data, isBinary) {
      conn.send(data, isBinary);
    },
  }) : roomServer(options, library, redisUrl!).server);
  if (workers > 1) return runCluster(workers, port, values.host, echoServer);
  const rooms = library === undefined ? undefined : roomServer(options, library, redisUrl!);
  const server = rooms?.server ?? echoServer();
  const address = await server.listen(port, values.host);
  const mode = rooms === undefined ? '' : `, rooms through Redis at ${redisUrl} (${library!.name})`;
  process.stdout.write(`lightws echo listening on ${reachableUrl(tls ? 'wss' : 'ws', address)} (transport: ${server.transport}${mode})\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(130); // a second signal: leave now
    stopping = true;
    process.stdout.write(`${signal}: closing ${server.connections} connections\n`);
    server.close().then(async (result) => {
      process.stdout.write(`closed ${result.closed}, terminated ${result.terminated}\n`);
      await rooms?.close();
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * `--redis`: each connection joins the topic named by its request path (without the query), and
 * what it sends is published there with conn.publish: everyone else in the room gets it, on every
 * server on that Redis, and the sender does not.
 */
function roomServer(options: ServerSettings, library: RedisLibrary, url: string): { server: Server; close(): Promise<void> } {
  const server = createServer({
    ...options,
    upgrade(request) {
      const query = request.url.indexOf('?');
      return { data: query < 0 ? request.url : request.url.slice(0, query) };
    },
    open(conn) {
      conn.subscribe(conn.data);
    },
    message(conn, data, isBinary) {
      conn.publish(conn.data, data, isBinary);
    },
  });
  const publisher = library.connect(url);
  const topics: RedisTopics = redisTopics(server, { publisher });
  return {
    server: server as Server,
    close: async () => {
      await topics.close();
      await (publisher as { quit(): Promise<unknown> }).quit().catch(() => {});
    },
  };
}

/** `--workers N`: the primary binds and supervises; each worker runs the echo server on the shared socket. */
async function runCluster(workers: number, port: number, host: string | undefined, echoServer: () => ReturnType<typeof createServer>): Promise<void> {
  const node = await startCluster({
    workers,
    port,
    host,
    onWorkerExit: ({ worker, code, signal }) => process.stderr.write(`lightws: worker ${worker} exited (${signal ?? code}); restarting\n`),
  }, echoServer);
  if (node.role === 'worker') return;
  process.stdout.write(`lightws echo listening on ${reachableUrl('ws', node.address)} (${workers} workers)\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write(`${signal}: closing all workers\n`);
    node.close().then((result) => {
      process.stdout.write(`closed ${result.closed}, terminated ${result.terminated}\n`);
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * A URL a client on this machine can open. Bound to all interfaces (`::` or
 * `0.0.0.0`), the address itself is no place to connect to: show loopback,
 * which both a dual-stack and an IPv4-only wildcard socket answer, and say so.
 */
function reachableUrl(scheme: 'ws' | 'wss', address: ListenAddress): string {
  if (address.address === '::' || address.address === '0.0.0.0') return `${scheme}://127.0.0.1:${address.port} on all interfaces`;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`lightws: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
