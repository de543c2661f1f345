// Chat with authentication and rooms.
//   ws://127.0.0.1:9001/rooms/NAME?token=TOKEN   (tokens below stand in for your session store)
// Each line goes to everyone in the room, the sender included; `/join NAME` moves you to another room.
import { createServer, type Connection } from 'lightws';

const sessions = new Map([
  ['t0k3n-alice', 'alice'],
  ['t0k3n-bob', 'bob'],
]);

interface Member {
  user: string;
  room: string;
}

function join(conn: Connection<Member>, room: string): void {
  conn.unsubscribe(conn.data.room);
  server.publish(conn.data.room, `* ${conn.data.user} left`);
  conn.data.room = room;
  conn.subscribe(room);
  server.publish(room, `* ${conn.data.user} joined ${room}`);
}

const server = createServer({
  // Before the 101: refuse strangers with 401; every accepted connection gets its data, so the
  // handlers below see conn.data as Member, never undefined.
  upgrade(request) {
    const url = new URL(request.url, 'ws://any');
    const user = sessions.get(url.searchParams.get('token') ?? '');
    if (user === undefined) return { reject: 401, message: 'log in first' };
    const room = /^\/rooms\/([\w-]{1,32})$/.exec(url.pathname)?.[1] ?? 'lobby';
    return { data: { user, room } };
  },
  open(conn) {
    conn.subscribe(conn.data.room);
    server.publish(conn.data.room, `* ${conn.data.user} joined ${conn.data.room}`);
  },
  message(conn, data, isBinary) {
    if (isBinary) return void conn.close(1003, 'text only');
    const text = data.toString(); // a copy: `data` itself is borrowed
    if (text.startsWith('/join ')) return join(conn, text.slice(6).trim() || 'lobby');
    server.publish(conn.data.room, `${conn.data.user}: ${text}`);
  },
  close(conn) {
    // Its topics are already left: tell the others.
    server.publish(conn.data.room, `* ${conn.data.user} left`);
  },
});

const { port } = await server.listen(Number(process.env.PORT ?? 9001), process.env.HOST ?? '127.0.0.1');
console.log(`chat: listening on ws://127.0.0.1:${port}/rooms/lobby?token=t0k3n-alice`);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void server.close({ timeoutMs: 5000 }).then(() => process.exit(0)));
