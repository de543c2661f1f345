/* global Bun, Response */
// The chat room's server under Bun (bench/chat.ts): Bun.serve, one topic, the sender's name before
// each line, published to the whole room (the sender included). Written here from the description
// of Bun's public chat-room benchmark. Prints {"ready":true,"port":N,"pid":P}; stops on stdin's end.
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req, server) {
    const name = new URL(req.url).searchParams.get('name') ?? 'Client';
    if (server.upgrade(req, { data: { name } })) return undefined;
    return new Response('upgrade required', { status: 426 });
  },
  websocket: {
    open(ws) {
      ws.subscribe('room');
    },
    message(ws, message) {
      server.publish('room', `${ws.data.name}: ${message}`);
    },
  },
});
process.stdout.write(`${JSON.stringify({ ready: true, port: server.port, pid: process.pid, native: true })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
