/**
 * The chat room's server (bench/chat.ts) on Node: rooms (`?room=`, 'room' by default), and each
 * line a client sends goes to every member of its room, the sender included, prefixed with the
 * sender's name (`?name=`).
 * The handlers are what a new user writes with each library's public API:
 * - lightws: `conn.subscribe('room')`, `server.publish('room', name + ': ' + text)`;
 * - uWebSockets.js: `ws.subscribe('room')`, `app.publish('room', ...)` (the native build);
 * - ws: no topics, so a loop over the room's members (a Set per room) sending each one the line.
 * Bun's own is chat-room.bun.mjs.
 *
 *   node dist/bench/servers/chat-room.js --kind lightws-handle|lightws-socket|ws|uws
 *
 * Prints {"ready":true,"port":N,"pid":P,"native":bool}; stops when stdin ends.
 */
import { parseArgs } from 'node:util';
import { type WebSocket, WebSocketServer } from 'ws';
import { createServer } from '../../src/index.js';
import { loadUws } from './uws.js';

const { values } = parseArgs({ options: { kind: { type: 'string' }, port: { type: 'string', default: '0' } } });
const kind = values.kind ?? 'lightws-handle';
const port = Number(values.port);
/** Who joins which room: `?name=` and `?room=` of the request ('room' when none is given). */
const member = (query: URLSearchParams): { name: string; room: string } => ({
  name: query.get('name') ?? 'Client',
  room: query.get('room') ?? 'room',
});
const queryOf = (url: string | undefined): URLSearchParams => new URL(url ?? '/', 'ws://x').searchParams;
const ready = (listening: number, native: boolean): void =>
  void process.stdout.write(`${JSON.stringify({ ready: true, port: listening, pid: process.pid, native, kind })}\n`);

if (kind === 'lightws-handle' || kind === 'lightws-socket') {
  const server = createServer<{ name: string; room: string }>({
    transport: kind === 'lightws-handle' ? 'handle' : 'socket',
    upgrade: (request) => ({ data: member(queryOf(request.url)) }),
    open: (conn) => conn.subscribe(conn.data.room),
    message: (conn, data) => void server.publish(conn.data.room, `${conn.data.name}: ${data.toString()}`),
  });
  const address = await server.listen(port, '127.0.0.1');
  ready(address.port, false);
} else if (kind === 'ws') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
  const rooms = new Map<string, Set<WebSocket>>();
  wss.on('connection', (ws, request) => {
    const { name, room } = member(queryOf(request.url));
    const members = rooms.get(room) ?? new Set<WebSocket>();
    rooms.set(room, members.add(ws));
    ws.on('close', () => void members.delete(ws));
    ws.on('message', (data: Buffer) => {
      const line = `${name}: ${data.toString()}`;
      for (const other of members) other.send(line);
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  ready((wss.address() as { port: number }).port, false);
} else if (kind === 'uws') {
  const { uws, native } = loadUws();
  const app = uws.App();
  app.ws<{ name: string; room: string }>('/*', {
    idleTimeout: 0,
    maxBackpressure: 64 * 1024 * 1024,
    upgrade: (res, req, context) =>
      res.upgrade(
        member(new URLSearchParams(req.getQuery())),
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      ),
    open: (ws) => void ws.subscribe(ws.getUserData().room),
    message: (ws, message) => {
      const { name, room } = ws.getUserData();
      app.publish(room, `${name}: ${Buffer.from(message).toString()}`);
    },
  });
  const listening = await new Promise<number>((resolve, reject) =>
    app.listen('127.0.0.1', port, (socket) =>
      socket ? resolve(uws.us_socket_local_port(socket)) : reject(new Error('uWS could not listen')),
    ),
  );
  ready(listening, native);
} else throw new RangeError(`--kind: lightws-handle, lightws-socket, ws or uws, not ${kind}`);

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
