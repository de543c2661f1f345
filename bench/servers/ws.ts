/**
 * The `ws` package as a benchmark server process (see protocol.ts):
 *
 *   node dist/bench/servers/ws.js --port 0 --mode echo|broadcast|idle
 *
 * `native` says whether ws masks/unmasks with native code: node:http's websocketMask (newer
 * Node) or the bufferutil addon (a devDependency here, loaded from its prebuilds). Set
 * WS_NO_BUFFER_UTIL=1 to run ws in pure JavaScript.
 */
import * as http from 'node:http';
import { createRequire } from 'node:module';
import { WebSocket, WebSocketServer } from 'ws';
import { type BenchServer, type Mode, isMain, runServerProcess } from './protocol.js';

const require = createRequire(import.meta.url);

/** Which native masking ws picked up, if any (ws/lib/buffer-util.js chooses at load). */
function wsNativeMasking(): string | null {
  if (typeof (http as unknown as Record<string, unknown>)['websocketMask'] === 'function')
    return 'node:http websocketMask';
  if (process.env['WS_NO_BUFFER_UTIL']) return null;
  const addon = Object.keys(require.cache).find((file) => /[\\/]bufferutil[\\/].*\.node$/.test(file));
  return addon ?? null;
}

/** ws's own answer to a plain request (what `new WebSocketServer({ port })` sends), and /healthz. */
function plainHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/healthz') {
    // With its length, as lightws sends it (without, node:http would send it chunked).
    res
      .writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 3, 'Cache-Control': 'no-store' })
      .end('ok\n');
    return;
  }
  const body = http.STATUS_CODES[426]!;
  res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' }).end(body);
}

export async function startWs(port: number, mode: Mode, host = '127.0.0.1', deflate = false): Promise<BenchServer> {
  // ws behind node:http, as an application that also serves HTTP runs it (what ws's `port`
  // option does too, with our /healthz added). perMessageDeflate is off by default in ws 8
  // (deflate: on with its defaults: context takeover, a zlib context pair per connection,
  // threshold 1024); maxPayload matches lightws's 16 MiB default.
  const httpServer = http.createServer(plainHttp);
  const wss = new WebSocketServer({ server: httpServer, maxPayload: 16 * 1024 * 1024, perMessageDeflate: deflate });
  const broadcast = (data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): number => {
    let sent = 0;
    for (const client of wss.clients) {
      if (client.readyState !== WebSocket.OPEN) continue;
      client.send(data, { binary: isBinary });
      sent++;
    }
    return sent;
  };
  wss.on('connection', (socket) => {
    socket.on('error', () => {}); // a client reset: ws closes the socket, nothing to report
    if (mode === 'echo') socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    else if (mode === 'broadcast') socket.on('message', (data, isBinary) => broadcast(data, isBinary));
    // idle: no 'message' listener; ws still reads and parses, the data is dropped
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const address = httpServer.address();
  if (address === null || typeof address === 'string') throw new Error(`unexpected address ${String(address)}`);
  const masking = wsNativeMasking();
  return {
    port: address.port,
    native: masking !== null,
    info: { nativeMasking: masking },
    connections: () => wss.clients.size,
    broadcast,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.close(1001);
        const timer = setTimeout(() => {
          for (const client of wss.clients) client.terminate();
        }, 1_000);
        wss.close(() => {
          clearTimeout(timer);
          httpServer.closeAllConnections();
          httpServer.close(() => resolve());
        });
      }),
  };
}

if (isMain(import.meta.url)) {
  void runServerProcess('ws', ({ port, host, mode, deflate }) => startWs(port, mode, host, deflate !== 'off'));
}
