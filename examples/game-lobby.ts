// A game lobby: upgrade-hook auth (401), rooms with conn.publish, heartbeats, backpressure,
// /healthz and a JSON status page on the same port, and SIGTERM with 1001 to every player.
//   ws://127.0.0.1:9001/?token=TOKEN, then send `join ROOM`, `move ...`, `snapshot N`
//
// The TypeScript pattern that always infers (docs/api.md, "TypeScript"): name the data type and
// pass it, `createServer<Player>(...)`, and give a return type to every handler whose result
// mentions `server` (here `request`), because TypeScript cannot infer a variable's type from an
// initializer that refers to the variable itself (TS7022/TS7023).
import { createServer, SendResult, type Connection, type HttpResponse } from 'lightws';

interface Player {
  name: string;
  /** null until the player joins a room. */
  room: string | null;
  /** Snapshot chunks still owed to this player: sent as the connection drains (backpressure). */
  owed: number;
}

const tokens = new Map([
  ['t0k3n-ada', 'ada'],
  ['t0k3n-bo', 'bo'],
]);
/** A chunk of a large state snapshot. */
const CHUNK = Buffer.alloc(64 * 1024, 1);
/** Keep at most this much queued per player; the rest waits for `drain`. */
const HIGH_WATER = 256 * 1024;

/** A helper takes the connection with its data type: Connection<Player>. */
function sendOwed(conn: Connection<Player>): void {
  while (conn.data.owed > 0 && conn.bufferedAmount < HIGH_WATER) {
    if (conn.send(CHUNK, true) === SendResult.Dropped) return; // closing, or over maxBufferedBytes
    conn.data.owed--;
    if (conn.data.owed === 0) conn.send('snapshot done');
  }
}

const server = createServer<Player>({
  pingIntervalMs: 10_000, // heartbeats: a ping after 10 s of silence...
  idleTimeoutMs: 30_000, // ...and a peer silent for 30 s (ping unanswered) is dropped
  maxBufferedBytes: 4 << 20, // no player queues more than 4 MiB...
  backpressure: 'close', // ...past it the connection is closed with 1008
  healthPath: '/healthz', // 200 "ok", 503 "draining" once close() begins
  upgrade(request) {
    const token = new URL(request.url, 'ws://any').searchParams.get('token') ?? '';
    const name = tokens.get(token);
    if (name === undefined) return { reject: 401, message: 'unknown token', headers: { 'WWW-Authenticate': 'Bearer' } };
    return { data: { name, room: null, owed: 0 } };
  },
  // A return type here, because the result mentions `server`.
  request(req): HttpResponse | undefined {
    if (req.url !== '/status') return undefined; // 404
    const body = JSON.stringify({ players: server.clients.size, handlerErrors: server.stats().handlerErrors });
    return { headers: { 'Content-Type': 'application/json' }, body };
  },
  message(conn, data) {
    const [command = '', ...rest] = data.toString().split(' ');
    const arg = rest.join(' ');
    if (command === 'join') {
      if (conn.data.room !== null) conn.unsubscribe(conn.data.room);
      conn.data.room = arg;
      conn.subscribe(arg);
      conn.publish(arg, `${conn.data.name} joined`); // everyone in the room but the sender
      conn.send(`joined ${arg} (${server.subscribers(arg)} here)`);
    } else if (command === 'move' && conn.data.room !== null) {
      conn.publish(conn.data.room, `${conn.data.name}: ${arg}`);
    } else if (command === 'snapshot') {
      conn.data.owed = Math.min(Number(arg) || 1, 256);
      sendOwed(conn);
    } else {
      conn.send(`unknown command: ${command}`);
    }
  },
  drain(conn) {
    sendOwed(conn); // the queue emptied: send what is still owed
  },
  close(conn) {
    if (conn.data.room !== null) server.publish(conn.data.room, `${conn.data.name} left`);
  },
  // conn is absent for a listening socket's error, and its data is undefined for a connection
  // that never opened (a failing upgrade hook): Connection<Player | undefined> | undefined.
  error(error, conn) {
    console.error('lobby error', conn?.data?.name ?? '(no player)', error.message);
  },
});

const { port } = await server.listen(Number(process.env.PORT ?? 9001), process.env.HOST ?? '127.0.0.1');
console.log(`lobby: listening on ws://127.0.0.1:${port}/?token=t0k3n-ada`);

// A process manager's SIGTERM: /healthz turns 503, every player gets 1001 "server restarting",
// and the process exits once they have closed (or after 10 s).
process.once('SIGTERM', () => {
  void server.close({ timeoutMs: 10_000, code: 1001, reason: 'server restarting' }).then((result) => {
    console.log(`lobby: closed ${result.closed}, terminated ${result.terminated}`);
    process.exit(0);
  });
});
