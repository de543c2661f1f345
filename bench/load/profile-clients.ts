/**
 * A WebSocket load for profiling an echo server (real WebSocket frames, unlike autocannon's plain
 * HTTP): N connections through the `ws` client send small text messages for a set time, then
 * close and print the echo rate. Bounded: it connects, loads for --seconds, closes, and exits by
 * itself (a hard deadline exits anyway).
 *
 *   node dist/bench/load/profile-clients.js --port 9001 [--host 127.0.0.1] [--connections 200]
 *        [--seconds 10] [--size 32] [--pipeline 1] [--rate 0] [--hold 0] [--json]
 *
 * --rate 0 (default): flat out: each connection keeps --pipeline messages in flight and sends the
 *   next when an echo comes back (the server's fastest steady state; CPU-bound on 2 cores).
 * --rate R: R messages per second in all, spread round-robin over the connections in 10 ms ticks
 *   (a steady load the server should keep up with; shows event-loop delay at a given rate).
 * The result line is printed as soon as the load ends, with the connections still open; they are
 * then kept open up to --hold seconds (or until the server closes them), and closed.
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { sleep } from '../lib/time.js';

export interface LoadOptions {
  port: number;
  host: string;
  connections: number;
  seconds: number;
  size: number;
  pipeline: number;
  rate: number;
}

export interface LoadResult {
  connections: number;
  seconds: number;
  sent: number;
  received: number;
  /** Echoes received per second of load. */
  msgsPerSec: number;
  errors: number;
}

const CONNECT_PARALLEL = 50;
const CONNECT_TIMEOUT_MS = 15_000;

function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: CONNECT_TIMEOUT_MS });
    ws.once('open', () => {
      ws.removeListener('error', reject);
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

/**
 * Connects, loads for options.seconds, waits for the last echoes; resolves with the numbers and a
 * `close` that closes the connections (which are still open then).
 */
export async function runLoad(
  options: LoadOptions,
  log: (line: string) => void = () => {},
): Promise<{ result: LoadResult; close(holdMs?: number): Promise<void> }> {
  const url = `ws://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}/`;
  const payload = Buffer.alloc(options.size, 0x78); // 'x' × size: valid UTF-8 text
  const sockets: WebSocket[] = [];
  let sent = 0;
  let received = 0;
  let errors = 0;
  let sending = false;

  // Connect in waves so the listen backlog never overflows.
  for (let i = 0; i < options.connections; i += CONNECT_PARALLEL) {
    const wave = Math.min(CONNECT_PARALLEL, options.connections - i);
    sockets.push(...(await Promise.all(Array.from({ length: wave }, () => connect(url)))));
  }
  log(`load: ${sockets.length} connections open to ${url}`);

  const flatOut = options.rate <= 0;
  for (const ws of sockets) {
    ws.on('error', () => errors++);
    ws.on('message', () => {
      received++;
      if (flatOut && sending) {
        ws.send(payload, { binary: false });
        sent++;
      }
    });
  }

  sending = true;
  const t0 = performance.now();
  const end = t0 + options.seconds * 1000;
  if (flatOut) {
    for (const ws of sockets) {
      for (let k = 0; k < options.pipeline; k++) ws.send(payload, { binary: false });
      sent += options.pipeline;
    }
    while (performance.now() < end) await sleep(Math.min(100, end - performance.now()));
  } else {
    let next = 0;
    let owed = 0;
    let last = t0;
    while (performance.now() < end) {
      await sleep(10);
      const now = performance.now();
      owed += ((now - last) / 1000) * options.rate;
      last = now;
      for (; owed >= 1; owed--) {
        const ws = sockets[next]!;
        next = (next + 1) % sockets.length;
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(payload, { binary: false });
          sent++;
        }
      }
    }
  }
  sending = false;
  const elapsed = (performance.now() - t0) / 1000;
  const receivedInTime = received;
  // Let the last echoes in (bounded).
  const drainEnd = performance.now() + 1_000;
  while (received < sent && performance.now() < drainEnd) await sleep(10);
  return {
    result: {
      connections: sockets.length,
      seconds: elapsed,
      sent,
      received,
      msgsPerSec: receivedInTime / elapsed,
      errors,
    },
    close: (holdMs = 0) => closeAll(sockets, holdMs),
  };
}

/**
 * Keeps the connections open up to `holdMs` (or until the server has closed them all), then
 * closes the rest properly (1000, then a terminate after 2 s).
 */
async function closeAll(sockets: WebSocket[], holdMs: number): Promise<void> {
  const holdEnd = performance.now() + holdMs;
  while (performance.now() < holdEnd && sockets.some((ws) => ws.readyState !== WebSocket.CLOSED)) await sleep(20);
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 2_000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(1000);
        }),
    ),
  );
}

function positiveInt(name: string, value: string, zeroAllowed = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (zeroAllowed ? 0 : 1))
    throw new RangeError(`--${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} integer, not ${value}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      connections: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '10' },
      size: { type: 'string', default: '32' },
      pipeline: { type: 'string', default: '1' },
      rate: { type: 'string', default: '0' },
      hold: { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.port === undefined) throw new RangeError('--port is required');
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 3600)) throw new RangeError(`--seconds must be in (0, 3600], not ${values.seconds}`);
  const options: LoadOptions = {
    port: positiveInt('port', values.port),
    host: values.host,
    connections: positiveInt('connections', values.connections),
    seconds,
    size: positiveInt('size', values.size, true),
    pipeline: positiveInt('pipeline', values.pipeline),
    rate: positiveInt('rate', values.rate, true),
  };
  const hold = Number(values.hold);
  if (!(hold >= 0 && hold <= 60)) throw new RangeError(`--hold must be in [0, 60], not ${values.hold}`);
  // Whatever happens (a server that stops answering), this process ends.
  setTimeout(
    () => {
      process.stderr.write('load: hard deadline passed, exiting\n');
      process.exit(1);
    },
    (seconds + hold + 30) * 1000,
  ).unref();
  const { result, close } = await runLoad(options, (line) => process.stderr.write(`${line}\n`));
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const mode = options.rate > 0 ? `rate ${options.rate}/s` : `flat out, pipeline ${options.pipeline}`;
    process.stdout.write(
      `load: ${result.connections} connections, ${options.size} B text, ${mode}, ${result.seconds.toFixed(1)} s: ` +
        `sent ${result.sent}, echoed ${result.received}, ${Math.round(result.msgsPerSec)} msgs/s` +
        (result.errors > 0 ? `, ${result.errors} errors` : '') +
        '\n',
    );
  }
  await close(hold * 1000);
  process.exit(result.received > 0 ? 0 : 1);
}

if (import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`load: ${(error as Error)?.message ?? String(error)}\n`);
    process.exit(1);
  });
}
