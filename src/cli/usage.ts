import { DEFAULTS, type LogLevel, type TransportChoice } from '../index.js';
import { VERSION } from '../version.js';

export const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];
export const TRANSPORTS: readonly TransportChoice[] = ['auto', 'handle', 'socket'];
/** The CLI is a server you watch: it says when it listens and who fails. The library stays quieter (warn). */
export const CLI_LOG_LEVEL: LogLevel = 'info';

export type CommandName = 'echo' | 'chat';
export const COMMAND_NAMES: readonly CommandName[] = ['echo', 'chat'];

const OPTION_SYNOPSIS = `[--port 9001] [--host HOST] [--transport auto|handle|socket] [--workers N]
               [--max-message BYTES] [--deflate off|shared|window] [--tls-cert FILE --tls-key FILE [--tls-compact]]
               [--allow-origin LIST|*] [--allow-host LIST|*] [--log-level ${LOG_LEVELS.join('|')}]
               [--redis redis://HOST:PORT]`;

/** The options both commands take, as `--help` explains them. */
const OPTIONS = `Options (both commands):
--port PORT: the port to listen on (default 9001; 0 picks a free one).
--host HOST: the address to bind; without it, all interfaces (IPv6 and IPv4).
--transport auto|handle|socket: raw libuv handles, or net sockets (auto: handle unless TLS).
--max-message BYTES: the largest message (default: echo ${DEFAULTS.maxMessageSize}, chat 4096); larger closes with 1009.
--deflate MODE: negotiate permessage-deflate (RFC 7692); see README "Compression".
--tls-cert FILE --tls-key FILE: serve wss:// (and the chat's page over https://).
--tls-compact: with --tls-cert/--tls-key, idle TLS 1.3 connections move to lightws's own record
             layer over raw handles (tls.compact, experimental; see docs/reliability.md).
--workers N: N processes share the port (cluster mode), each with its own reactor;
             cluster mode uses the handle transport and serves no TLS. The chat's rooms reach
             every worker through the primary (or through Redis with --redis).
--allow-origin LIST|*: browser pages allowed to connect, besides the server's own origin:
             a comma-separated list of origins (https://app.example), or * for any.
--allow-host LIST|*: the Host header values answered (others get 421), a comma-separated list
             of host names. Default: bound to loopback (--host 127.0.0.1, ::1 or localhost),
             that address and localhost, against DNS rebinding; bound elsewhere, any (*).
--log-level LEVEL: default ${CLI_LOG_LEVEL} here; the library's default (logLevel) is ${DEFAULTS.logLevel}.
--redis URL: topics shared by every server on that Redis, through the 'redis' or 'ioredis'
             package installed next to your application (see each command's help).
SIGINT/SIGTERM close it gracefully (1001 to every connection). SIGHUP reloads without a disconnect:
  every connection moves to a new process running the code on disk (each worker's with --workers).
Exit status: 0 after a graceful close, 2 for a usage mistake, 1 when the server cannot start.`;

/** `lightws --help`, `lightws help`: every command and the options they share. */
export const USAGE = `lightws ${VERSION}

Usage:
  lightws echo ${OPTION_SYNOPSIS}
  lightws chat [the same options]
  lightws help [echo|chat]     this text, or a command's own (also: lightws echo --help)
  lightws --version

echo: a WebSocket server that sends every text and binary message back.
chat: a chat for browsers on one port (the page at /, the WebSocket at /ws).

${OPTIONS}`;

/** Each command's own help: what it serves, then the options. */
export const COMMAND_USAGE: Readonly<Record<CommandName, string>> = {
  echo: `lightws ${VERSION}

Usage:
  lightws echo ${OPTION_SYNOPSIS}

A WebSocket server that sends every text and binary message back to its sender, at any path
(the Autobahn runs and the benchmarks use it). With --redis, rooms instead of echo: each
connection joins the topic named by its request path, and what it sends goes to everyone else
in the room, on this server and every other one on that Redis (not back to the sender).

${OPTIONS}`,
  chat: `lightws ${VERSION}

Usage:
  lightws chat ${OPTION_SYNOPSIS}

A chat for browsers on one port. Open the printed http:// URL in two windows:
  /                 the page (HTML, CSS and a script shipped in the package, nothing from a CDN);
                    /?room=NAME&nick=NAME picks a room and a nickname, /nick NAME renames
  /ws               the WebSocket: /ws?room=NAME&nick=NAME, one line a message, to everyone in
                    the room (the sender included)
  POST /benchmark   sends "test message" to every connection (on every worker)
  /healthz, /metrics  health check and Prometheus metrics
Messages are at most 4096 bytes unless --max-message says otherwise. With --workers N the rooms
reach every worker through the primary; with --redis, every server on that Redis.
From a checkout, \`npm run demo\` runs \`lightws chat --port 9001 --host 127.0.0.1\`;
\`npm run demo -- --port N\` picks another port.

${OPTIONS}`,
};
