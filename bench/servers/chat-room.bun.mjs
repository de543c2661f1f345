/* global Bun, Response */
// The chat room's server under Bun (bench/chat.ts): Bun.serve, a topic per room (`?room=`, 'room' by
// default), the sender's name before each line, published to the whole room (the sender included). Written here from the description
// of Bun's public chat-room benchmark. Prints {"ready":true,"port":N,"pid":P}; stops on stdin's end.
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req, server) {
    const query = new URL(req.url).searchParams;
    const data = { name: query.get('name') ?? 'Client', room: query.get('room') ?? 'room' };
    if (server.upgrade(req, { data })) return undefined;
    return new Response('upgrade required', { status: 426 });
  },
  websocket: {
    open(ws) {
      ws.subscribe(ws.data.room);
    },
    message(ws, message) {
      server.publish(ws.data.room, `${ws.data.name}: ${message}`);
    },
  },
});
process.stdout.write(`${JSON.stringify({ ready: true, port: server.port, pid: process.pid, native: true })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
