/**
 * Profiles the lightws echo server under a real WebSocket load and prints where the HTML report is.
 * What `npm run profile:doctor|profile:flame|profile:heap|profile:0x` call (after a build):
 *
 *   node dist/bench/profile.js doctor|flame|heap|0x [--transport handle|socket]
 *        [--seconds 10] [--connections 200] [--size 32] [--pipeline 1] [--rate 0]
 *
 * The server is dist/bench/servers/lightws.js --mode echo (the server the benchmarks measure; its
 * echo handler is `lightws echo`'s), on port 0, under `clinic doctor|flame|heapprofiler` or `0x`.
 * The load is dist/bench/load/profile-clients.js (the `ws` client, N connections, small text messages).
 *
 * Two ways to start the load when the server listens and to stop the server after it:
 * - --transport socket: the profilers' own `--on-port` (clinic) / `-P` (0x): they find the port
 *   the server listens on (on-net-listen, an async_hooks hook on net.Server), run the load
 *   command with $PORT, and stop the server when it exits.
 * - --transport handle (default, what lightws runs by default): on-net-listen cannot see a raw
 *   libuv listener (it calls `handle.owner.once('listening')`, and a raw TCP handle has no owner:
 *   the server dies with "Cannot read properties of null (reading 'once')"). So this script reads
 *   the port from the server's ready line, runs the load itself, and when the load ends (its
 *   connections still open) sends the server SIGINT, as Ctrl+C would; the server closes them
 *   (1001) and exits by itself, which lets every profiler finish.
 * Reports go to .clinic/ (clinic) and profiles/<pid>.0x/ (0x), both git-ignored.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { killOnExit, track, waitOutSigint } from './lib/children.js';

const TOOLS = ['doctor', 'flame', 'heap', '0x'] as const;
type Tool = (typeof TOOLS)[number];

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
const root = join(here, '..', '..');
const serverScript = join(here, 'servers', 'lightws.js');
const loadScript = join(here, 'load', 'profile-clients.js');

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

function usage(message: string): never {
  process.stderr.write(
    `profile: ${message}\n\nUsage: node dist/bench/profile.js ${TOOLS.join('|')} [--transport handle|socket] ` +
      '[--seconds 10] [--connections 200] [--size 32] [--pipeline 1] [--rate 0]\n',
  );
  process.exit(2);
}

const quote = (arg: string): string => (/^[\w@%+=:,./$-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

function main(): void {
  const { values, positionals } = benchArgs(
    import.meta.url,
    {
      allowPositionals: true,
      options: {
        transport: { type: 'string', default: 'handle' },
        seconds: { type: 'string', default: '10' },
        connections: { type: 'string', default: '200' },
        size: { type: 'string', default: '32' },
        pipeline: { type: 'string', default: '1' },
        rate: { type: 'string', default: '0' },
      },
    },
    TOOLS.join('|'),
  );
  const tool = positionals[0] as Tool;
  if (positionals.length !== 1 || !TOOLS.includes(tool)) usage(`say which profiler: ${TOOLS.join(', ')}`);
  const transport = values.transport;
  if (transport !== 'handle' && transport !== 'socket') usage(`--transport must be handle or socket, not ${transport}`);
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) usage(`--seconds must be in (0, 600], not ${values.seconds}`);
  const onPort = transport === 'socket';

  const loadArgs = [
    '--connections',
    values.connections,
    '--seconds',
    values.seconds,
    '--size',
    values.size,
    '--pipeline',
    values.pipeline,
    '--rate',
    values.rate,
  ];
  const loadCommand = [process.execPath, loadScript, '--port', '$PORT', ...loadArgs].map(quote).join(' ');
  const server = [
    process.execPath,
    serverScript,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--mode',
    'echo',
    '--transport',
    transport,
  ];
  const toolArgs =
    tool === '0x'
      ? [
          require.resolve('0x/cmd.js'),
          '--output-dir',
          join('profiles', '{pid}.0x'),
          ...(onPort ? ['-P', loadCommand] : []),
          '--',
          ...server,
        ]
      : [
          require.resolve('clinic/bin.js'),
          tool === 'heap' ? 'heapprofiler' : tool,
          '--open=false',
          ...(onPort ? ['--on-port', loadCommand] : []),
          '--',
          ...server,
        ];

  process.stdout.write(
    `profile: ${tool}, lightws echo (${transport} transport), ${values.connections} connections, ${seconds} s\n`,
  );
  process.stdout.write(
    `profile: ${[process.execPath, ...toolArgs].map((arg) => quote(relative(root, arg).startsWith('..') ? arg : relative(root, arg) || arg)).join(' ')}\n`,
  );
  // NO_INSIGHT: without a terminal, clinic would ask for analytics consent and exit 0 doing nothing.
  const child = track(
    spawn(process.execPath, toolArgs, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_INSIGHT: '1' },
    }),
  );
  let report: string | undefined;
  let serverPid: number | undefined;
  let loadFailed = false;
  const scan = (text: string): void => {
    const match = /file:\/\/(\/\S+?\.html)/.exec(text);
    if (match) report = match[1];
  };
  createInterface({ input: child.stdout }).on('line', (raw) => {
    const text = raw.replace(ANSI, '');
    process.stdout.write(`${text}\n`);
    scan(text);
    if (onPort || serverPid !== undefined || !text.startsWith('{"ready":true')) return;
    const ready = JSON.parse(text) as { port: number; pid: number };
    serverPid = ready.pid;
    killOnExit(serverPid); // the profiler's child: if we die first, it must not stay listening
    void runLoad(ready.port, loadArgs).then((ok) => {
      loadFailed = !ok;
      process.stdout.write('profile: load done, stopping the server (SIGINT) with its connections open\n');
      signal(serverPid!, 'SIGINT');
    });
  });
  createInterface({ input: child.stderr }).on('line', (raw) => {
    const text = raw.replace(ANSI, '');
    process.stderr.write(`${text}\n`);
    scan(text);
  });

  // Ctrl+C reaches the whole process group (the profiler and the server handle it); stay to print the report.
  waitOutSigint();
  const deadline = setTimeout(
    () => {
      process.stderr.write('profile: the profiler did not finish in time; stopping it\n');
      if (serverPid !== undefined) signal(serverPid, 'SIGKILL');
      signal(child.pid!, 'SIGKILL');
    },
    (seconds + 240) * 1000,
  );
  deadline.unref();

  child.on('exit', (code, sig) => {
    clearTimeout(deadline);
    if (report !== undefined && existsSync(report)) {
      process.stdout.write(
        `\nprofile: ${tool} report: ${relative(root, report)}\n  open file://${report} in a browser\n`,
      );
      process.exit(loadFailed ? 1 : 0);
    }
    process.stderr.write(`profile: no report (${tool} exited with ${sig ?? code})\n`);
    process.exit(1);
  });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Runs the load against `port`; resolves once it has printed its result (true) or failed (false).
 * Its connections are still open then (--hold): the server is stopped under load, so every profile
 * ends with the load (the heap profile shows a loaded server's live memory, not an empty one's).
 */
function runLoad(port: number, loadArgs: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const load = track(
      spawn(process.execPath, [loadScript, '--port', String(port), '--hold', '5', ...loadArgs], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    createInterface({ input: load.stdout }).on('line', (text) => {
      process.stdout.write(`${text}\n`);
      if (text.startsWith('load: ')) resolve(true);
    });
    load.on('exit', (code) => resolve(code === 0));
    load.on('error', () => resolve(false));
  });
}

main();
