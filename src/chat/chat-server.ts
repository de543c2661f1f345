import { readFileSync } from 'node:fs';
import type { HttpRequest, HttpResponse } from '../api/request-handler.js';
import { route } from '../route.js';
import { defined } from '../api/defined.js';
import { cleanNick, oneLine } from './chat-lines.js';
import { createServer, type Server, type ServerSettings } from '../server.js';

/**
 * `lightws chat`: a browser chat on one port. `/` is the page (HTML, CSS
 * and JS shipped in the package, nothing from elsewhere), `/ws` the
 * WebSocket, with rooms (topics) and nicknames from its query string;
 * `/benchmark` sends "test message" to every connection, so that an HTTP
 * load tool can drive broadcasts (as in the Go chat hub it is modelled on);
 * `/healthz` and `/metrics` are the built-in paths.
 *
 * The wire is text, one line per message: `nick: text` from people, `* ...`
 * from the server (chat-lines.ts says what each may hold), `test message`
 * from /benchmark. What a person sends goes to everyone in the room, the
 * sender included (so that everyone sees one order), on every server a
 * topic bridge reaches.
 */

export interface ChatUser {
  room: string;
  nick: string;
  /** The room or nickname asked for was not taken as it was, or none was: the connection is told which it got. */
  changed: boolean;
}

/** The files of the page, read once: small, and served from memory. */
const PAGE_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/chat.js': { file: 'chat.js', type: 'text/javascript; charset=utf-8' },
  '/chat.css': { file: 'chat.css', type: 'text/css; charset=utf-8' },
};

/** The page's own scripts and styles only, and WebSockets to its own origin. */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

const ROOM = /^[A-Za-z0-9_.-]{1,32}$/;
/** The topic a room's members subscribe to. */
export function roomTopic(room: string): string {
  return `room:${room}`;
}

/** Room and nickname from `/ws?room=..&nick=..`. */
function userOf(url: string): ChatUser {
  const query = new URL(url, 'http://chat.invalid').searchParams;
  const asked = { room: query.get('room') ?? '', nick: query.get('nick') };
  const room = ROOM.test(asked.room) ? asked.room : 'lobby';
  const nick = cleanNick(asked.nick);
  // No room asked for is the lobby, as expected; a nickname not asked for is a guest's, to be learnt.
  return { room, nick, changed: (asked.room !== '' && room !== asked.room) || nick !== asked.nick };
}

function loadPage(): Map<string, HttpResponse> {
  const dir = new URL('./public/', import.meta.url);
  return new Map(
    Object.entries(PAGE_FILES).map(([path, { file, type }]) => [
      path,
      { headers: { ...PAGE_HEADERS, 'Content-Type': type }, body: readFileSync(new URL(file, dir)) },
    ]),
  );
}

/**
 * The chat server: give it the settings of any server (transport, TLS,
 * checkOrigin, limits, logging). It serves the page, the WebSocket and the
 * built-in paths; attach a topic bridge (redisTopics, or a cluster's
 * relayTopics) to spread the rooms over several servers.
 */
export function createChatServer(settings: Omit<ServerSettings, 'routes'> = {}): Server {
  const page = loadPage();
  const server: Server = createServer({
    maxMessageSize: 4096,
    healthPath: '/healthz',
    metricsPath: '/metrics',
    ...defined(settings), // a setting given as undefined keeps the chat's own

    routes: [
      route('/ws', {
        upgrade: (request) => ({ data: userOf(request.url) }),
        open(conn) {
          conn.subscribe(roomTopic(conn.data.room));
          // Given another name or room than it asked for (cleaned, a guest name, the lobby): to this
          // connection alone, so that its page shows them and knows its own lines.
          if (conn.data.changed) conn.send(`* [you] are ${conn.data.nick} in room ${conn.data.room}`);
          conn.publish(roomTopic(conn.data.room), `* ${conn.data.nick} joined`);
        },
        message(conn, data, isBinary) {
          if (isBinary) return; // a chat of text
          const text = oneLine(data.toString('utf8'));
          if (text === '') return;
          const topic = roomTopic(conn.data.room);
          if (text.startsWith('/nick ')) {
            const old = conn.data.nick;
            conn.data.nick = cleanNick(text.slice(6));
            conn.send(`* [you] are now ${conn.data.nick}`);
            conn.publish(topic, `* ${old} is now ${conn.data.nick}`);
            return;
          }
          server.publish(topic, `${conn.data.nick}: ${text}`);
        },
        close(conn) {
          server.publish(roomTopic(conn.data.room), `* ${conn.data.nick} left`);
        },
      }),
      route('/*', {
        request(request: HttpRequest): HttpResponse | undefined {
          const path = new URL(request.url, 'http://chat.invalid').pathname;
          if (path === '/benchmark') {
            // It changes what every connection receives: POST only, so that no link, image or
            // prefetch a page can make a browser follow sends anything (RFC 9110 §9.2.1).
            if (request.method !== 'POST')
              return { status: 405, headers: { Allow: 'POST' }, body: 'Method Not Allowed: POST /benchmark\n' };
            const here = server.broadcast('test message', false, { remote: true });
            return {
              headers: { 'Cache-Control': 'no-store' },
              body: `test message sent to ${here} connections here\n`,
            };
          }
          if (request.method !== 'GET' && request.method !== 'HEAD')
            return { status: 405, headers: { Allow: 'GET, HEAD' }, body: 'Method Not Allowed\n' };
          if (path === '/favicon.ico') return { status: 204 };
          return page.get(path);
        },
      }),
    ],
  });
  return server;
}
