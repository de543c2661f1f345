import { DEFAULTS, type LogLevel, type TransportChoice } from '../index.js';
import { VERSION } from '../version.js';

export const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];
export const TRANSPORTS: readonly TransportChoice[] = ['auto', 'handle', 'socket'];
/** The CLI is a server you watch: it says when it listens and who fails. The library stays quieter (warn). */
export const CLI_LOG_LEVEL: LogLevel = 'info';

export const USAGE = `lightws ${VERSION}

Usage:
  lightws echo [--port 9001] [--host HOST] [--transport auto|handle|socket] [--workers N]
               [--max-message BYTES] [--deflate off|shared|window] [--tls-cert FILE --tls-key FILE]
               [--allow-origin LIST|*] [--log-level ${LOG_LEVELS.join('|')}] [--redis redis://HOST:PORT]
  lightws chat [the same options]

echo: a WebSocket server that sends every text and binary message back.
chat: a chat for browsers on one port: the page at /, the WebSocket at /ws (rooms and
  nicknames: /ws?room=NAME&nick=NAME), /benchmark sends "test message" to everyone, /healthz
  and /metrics (Prometheus). Open the printed http:// URL; ?room=..&nick=.. picks yours.
--host HOST: the address to bind; without it, all interfaces (IPv6 and IPv4).
--deflate MODE: negotiate permessage-deflate (RFC 7692); see README "Compression".
--workers N: N processes share the port (cluster mode), each with its own reactor;
             cluster mode uses the handle transport and serves no TLS. The chat's rooms reach
             every worker through the primary (or through Redis with --redis).
--allow-origin LIST|*: browser pages allowed to connect, besides the server's own origin:
             a comma-separated list of origins (https://app.example), or * for any.
--log-level LEVEL: default ${CLI_LOG_LEVEL} here; the library's default (logLevel) is ${DEFAULTS.logLevel}.
--redis URL: topics shared by every server on that Redis. For echo, rooms instead of echo: each
  connection joins the topic named by its request path, and what it sends goes to everyone else
  in the room, on this server and the others (not back to the sender). For chat, its rooms.
  Uses the 'redis' or 'ioredis' package installed next to your application.
SIGINT/SIGTERM close it gracefully (1001 to every connection). SIGHUP reloads without a disconnect:
  every connection moves to a new process running the code on disk (each worker's with --workers).
Exit status: 0 after a graceful close, 2 for a usage mistake, 1 when the server cannot start.`;
