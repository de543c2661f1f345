#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createServer, startCluster, type DeflateMode, type TransportChoice } from './index.js';
import { VERSION } from './version.js';

const USAGE = `lightws ${VERSION}

Usage:
  lightws echo [--port 9001] [--host HOST] [--transport auto|handle|socket] [--workers N]
               [--max-message BYTES] [--deflate off|shared|window] [--tls-cert FILE --tls-key FILE]
               [--log-level LEVEL]

echo: a WebSocket server that sends every text and binary message back.
--deflate MODE: negotiate permessage-deflate (RFC 7692); see README "Compression".
--workers N: N processes share the port (cluster mode), each with its own reactor.
SIGINT/SIGTERM close it gracefully (1001 to every connection).`;

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
        'log-level': { type: 'string', default: 'info' },
        workers: { type: 'string', default: '1' },
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
  const tls = values['tls-cert'] !== undefined ? { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) } : undefined;

  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) fail('--workers must be a positive integer');
  const echoServer = () => createServer({
    transport: values.transport as TransportChoice,
    maxMessageSize,
    deflate,
    tls,
    logLevel: values['log-level'] as 'info',
    message(conn, data, isBinary) {
      conn.send(data, isBinary);
    },
  });
  if (workers > 1) return runCluster(workers, port, values.host, echoServer);
  const server = echoServer();
  const address = await server.listen(port, values.host);
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  process.stdout.write(`lightws echo listening on ${tls ? 'wss' : 'ws'}://${shown}:${address.port} (transport: ${server.transport})\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(130); // a second signal: leave now
    stopping = true;
    process.stdout.write(`${signal}: closing ${server.connections} connections\n`);
    server.close().then((result) => {
      process.stdout.write(`closed ${result.closed}, terminated ${result.terminated}\n`);
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
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
  const shown = node.address.family === 'IPv6' ? `[${node.address.address}]` : node.address.address;
  process.stdout.write(`lightws echo listening on ws://${shown}:${node.address.port} (${workers} workers)\n`);
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

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`lightws: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
