/** The `lightws` command line: arguments parsed and checked, a command run (main.ts loads it). */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { DeflateMode, LogLevel, TransportChoice } from '../index.js';
import { defined } from '../api/defined.js';
import { chatCommand, echoCommand, type CliSettings, type RedisChoice } from './commands.js';
import { checkOrigin } from '../protocol/origin.js';
import { serveCluster, serveOne } from './serve.js';
import { allowedHostsFor } from './hosts.js';
import {
  CLI_LOG_LEVEL,
  COMMAND_NAMES,
  COMMAND_USAGE,
  LOG_LEVELS,
  TRANSPORTS,
  USAGE,
  type CommandName,
} from './usage.js';
import { loadRedisLibrary, REDIS_LIBRARY_MISSING } from '../redis/load-library.js';
import { VERSION } from '../version.js';

const COMMANDS = { echo: echoCommand, chat: chatCommand } as const;

function isCommand(name: string | undefined): name is CommandName {
  return (COMMAND_NAMES as readonly (string | undefined)[]).includes(name);
}

/** The command a usage mistake is about, once known: its help follows the mistake. */
let usage = USAGE;

function fail(message: string): never {
  process.stderr.write(`lightws: ${message}\n\n${usage}\n`);
  process.exit(2);
}

/**
 * `--allow-origin`: `*` for any page, else a comma-separated list of
 * origins; the server's own origin (its page, for the chat) stays allowed.
 */
function allowedOrigins(value: string | undefined, secure: boolean): CliSettings['checkOrigin'] {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  if (list.length === 0) fail('--allow-origin needs * or a list of origins');
  for (const origin of list) {
    if (origin !== '*' && origin !== 'null' && !/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(origin))
      fail(`--allow-origin: ${origin} is not an origin (scheme://host[:port]), null or *`);
  }
  if (list.includes('*')) return ['*'];
  return (origin, request) =>
    checkOrigin(origin, request.host, undefined, request, secure) || checkOrigin(origin, request.host, list, request);
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '9001' },
        host: { type: 'string' },
        transport: { type: 'string', default: 'auto' },
        'max-message': { type: 'string' },
        deflate: { type: 'string', default: 'off' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-compact': { type: 'boolean' },
        'log-level': { type: 'string', default: CLI_LOG_LEVEL },
        'allow-origin': { type: 'string' },
        'allow-host': { type: 'string' },
        workers: { type: 'string', default: '1' },
        redis: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    if (isCommand(argv[0])) usage = COMMAND_USAGE[argv[0]];
    fail((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  // `lightws help [COMMAND]`, `lightws [COMMAND] --help`: the command's own help, or everything.
  const asked = positionals[0] === 'help' ? positionals.slice(1) : values.help ? positionals : undefined;
  if (asked !== undefined) {
    if (asked.length === 0) return void process.stdout.write(`${USAGE}\n`);
    if (asked.length === 1 && isCommand(asked[0])) return void process.stdout.write(`${COMMAND_USAGE[asked[0]]}\n`);
    fail(`no help for ${asked.join(' ')}: the commands are ${COMMAND_NAMES.join(', ')}`);
  }
  const command = positionals[0];
  if (!isCommand(command))
    fail(positionals.length === 0 ? 'missing command' : `unknown command: ${positionals.join(' ')}`);
  usage = COMMAND_USAGE[command];
  if (positionals.length > 1) fail(`unknown command: ${positionals.join(' ')}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0–65535, not ${values.port}`);
  const maxMessageSize = values['max-message'] === undefined ? undefined : Number(values['max-message']);
  if (maxMessageSize !== undefined && !(Number.isInteger(maxMessageSize) && maxMessageSize > 0))
    fail('--max-message must be a positive integer');
  const deflate = values.deflate as DeflateMode;
  if (deflate !== 'off' && deflate !== 'shared' && deflate !== 'window')
    fail(`--deflate must be off, shared or window, not ${values.deflate}`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined))
    fail('--tls-cert and --tls-key go together');
  const wantsTls = values['tls-cert'] !== undefined;
  const transport = values.transport as TransportChoice;
  if (!TRANSPORTS.includes(transport)) fail(`--transport must be ${TRANSPORTS.join(', ')}, not ${values.transport}`);
  const logLevel = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) fail(`--log-level must be ${LOG_LEVELS.join(', ')}, not ${values['log-level']}`);
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) fail('--workers must be a positive integer');
  // The cluster's primary hands raw TCP handles to its workers: no TLS, no net sockets.
  const compact = values['tls-compact'] === true;
  if (compact && !wantsTls) fail('--tls-compact needs --tls-cert and --tls-key');
  // The compact record layer runs over raw handles; plain node:tls over net sockets.
  if (compact && transport === 'socket')
    fail('--tls-compact needs --transport handle or auto (it runs on raw handles)');
  if (wantsTls && !compact && transport === 'handle')
    fail('--tls-cert/--tls-key need --transport socket or auto (TLS runs on net sockets), or --tls-compact');
  if (workers > 1 && wantsTls)
    fail('--workers cannot be combined with --tls-cert/--tls-key (cluster mode serves plain ws://)');
  if (workers > 1 && transport === 'socket')
    fail('--workers needs the handle transport (cluster mode passes raw handles)');
  const checkOrigin = allowedOrigins(values['allow-origin'], wantsTls);
  const allowedHosts = allowedHostsFor(values.host, values['allow-host'], fail);
  const redisUrl = values.redis;
  if (redisUrl !== undefined && !/^rediss?:\/\/./.test(redisUrl))
    fail(`--redis must be a redis:// or rediss:// URL, not ${redisUrl}`);
  const redis: RedisChoice | undefined =
    redisUrl === undefined
      ? undefined
      : { url: redisUrl, library: (await loadRedisLibrary()) ?? fail(REDIS_LIBRARY_MISSING) };
  // Past this point a failure is not a usage mistake: unreadable files, a port in use (exit 1).
  const tls = wantsTls
    ? {
        cert: readFileSync(values['tls-cert']!),
        key: readFileSync(values['tls-key']!),
        ...(compact ? { compact: true } : {}),
      }
    : undefined;
  // Only what was given: a setting left out keeps the receiver's default (the chat's 4 KiB messages).
  const settings: CliSettings = defined({
    transport,
    maxMessageSize,
    deflate,
    tls,
    logLevel,
    checkOrigin,
    allowedHosts,
  });
  const served = COMMANDS[command](settings, redis);
  // Topics across workers: through Redis when given, else the chat's go through the primary.
  if (workers > 1) return serveCluster(served, workers, port, values.host, command === 'chat' && redis === undefined);
  return serveOne(served, port, values.host);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`lightws: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
