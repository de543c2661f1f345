import { readFileSync } from 'node:fs';
import type { HttpRequest, HttpResponse } from '../api/request-handler.js';
import { route } from '../route.js';
import { defined } from '../api/defined.js';
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
 * for joins, leaves and renames, `test message` from /benchmark. What a
 * person sends goes to everyone in the room, the sender included (so that
 * everyone sees one order), on every server a topic bridge reaches.
 */

export interface ChatUser {
  room: string;
  nick: string;
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
const MAX_NICK = 24;
// eslint-disable-next-line no-control-regex -- control characters are what cleanNick removes
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** The topic a room's members subscribe to. */
export function roomTopic(room: string): string {
  return `room:${room}`;
}

/** A nickname as others will see it: no control characters, trimmed, at most MAX_NICK characters. */
function cleanNick(raw: string | null): string {
  const nick = (raw ?? '').replace(CONTROL_CHARACTERS, '').trim().slice(0, MAX_NICK);
  return nick === '' ? `guest-${Math.floor(1000 + Math.random() * 9000)}` : nick;
}

/** Room and nickname from `/ws?room=..&nick=..`. */
function userOf(url: string): ChatUser {
  const query = new URL(url, 'http://chat.invalid').searchParams;
  const room = query.get('room') ?? '';
  return { room: ROOM.test(room) ? room : 'lobby', nick: cleanNick(query.get('nick')) };
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
          conn.publish(roomTopic(conn.data.room), `* ${conn.data.nick} joined`);
        },
        message(conn, data, isBinary) {
          if (isBinary) return; // a chat of text
          const text = data.toString('utf8').trim();
          if (text === '') return;
          const topic = roomTopic(conn.data.room);
          if (text.startsWith('/nick ')) {
            const old = conn.data.nick;
            conn.data.nick = cleanNick(text.slice(6));
            server.publish(topic, `* ${old} is now ${conn.data.nick}`);
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
