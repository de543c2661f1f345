/**
 * Server process for bench/idle-tls.ts's other kinds, serving wss:// (TLS 1.3, the same ECDSA
 * P-256 certificate) and echoing: `ws` (ws over node:https), `uws` (uWebSockets.js SSLApp, native
 * on Node 20 only: refuses to run on the package's JavaScript fallback) and `bun` (Bun.serve with
 * `tls`, run by Bun). Same stdin protocol as idle-tls-server.ts: prints its port, answers "count"
 * with the open connection count (and 0 moved).
 *
 *   node dist/bench/servers/idle-tls-others.js --kind ws|uws --cert FILE --key FILE
 *   bun dist/bench/servers/idle-tls-others.js --kind bun --cert FILE --key FILE
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { loadUws } from './uws.js';

interface BunSocket {
  send(data: string | Uint8Array): number;
}
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    tls: { cert: string; key: string };
    fetch(request: Request, server: { upgrade(request: Request): boolean }): Response | undefined;
    websocket: {
      idleTimeout: number;
      maxPayloadLength: number;
      perMessageDeflate: boolean;
      open(ws: BunSocket): void;
      close(ws: BunSocket): void;
      message(ws: BunSocket, message: string | Uint8Array): void;
    };
  }): { port: number };
};

const { values } = parseArgs({
  options: { kind: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } },
});
const certFile = values.cert!;
const keyFile = values.key!;
let open = 0;

async function start(kind: string | undefined): Promise<number> {
  if (kind === 'ws') {
    const https = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
    const wss = new WebSocketServer({ server: https, perMessageDeflate: false });
    wss.on('connection', (ws) => {
      open++;
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('close', () => open--);
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    return (https.address() as AddressInfo).port;
  }
  if (kind === 'uws') {
    const { uws, native, nativeError } = loadUws();
    if (!native) throw new Error(`uWS native binary not loaded: ${nativeError}`);
    const app = uws.SSLApp({ key_file_name: keyFile, cert_file_name: certFile });
    app.ws('/*', {
      idleTimeout: 0,
      maxPayloadLength: 16 << 20,
      open: () => void open++,
      close: () => void open--,
      message: (ws, message, isBinary) => void ws.send(message, isBinary),
    });
    return new Promise((resolve, reject) =>
      app.listen('127.0.0.1', 0, (token) =>
        token ? resolve(uws.us_socket_local_port(token)) : reject(new Error('uWS could not listen')),
      ),
    );
  }
  if (kind === 'bun') {
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') },
      fetch: (request, server) => (server.upgrade(request) ? undefined : new Response('upgrade', { status: 426 })),
      websocket: {
        idleTimeout: 0,
        maxPayloadLength: 16 << 20,
        perMessageDeflate: false,
        open: () => void open++,
        close: () => void open--,
        message: (ws, message) => void ws.send(message),
      },
    });
    return server.port;
  }
  throw new Error(`--kind must be ws, uws or bun, not ${kind}`);
}

const port = await start(values.kind);
process.stdout.write(`port ${port}\n`);
createInterface({ input: process.stdin })
  .on('line', () => process.stdout.write(`count ${open} 0\n`))
  .on('close', () => process.exit(0)); // stdin closed: exit normally (a --cpu-prof profile is written)
