/**
 * The load of `bench:reload`: N lightws client connections, of which every `--echo`-th keeps one
 * sequence-numbered message in flight (the next is sent `--interval` ms after the echo of the last comes back, so
 * a lost, duplicated or reordered one shows as a wrong number). Run by bench/reload.ts through
 * fork(), IPC only:
 *
 *   node dist/bench/load/reload-clients.js --port P --connections N --echo K --source 127.a.b
 *
 * Reports `connected` once the ramp is done; `start` begins the echoes; `stop` stops them and
 * reports `result`: echoes, wrong ones, closes, and each echoing connection's longest wait.
 */
import { parseArgs } from 'node:util';
import { createClient, type Connection } from '../../src/index.js';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { SourcePorts } from './sources.js';

export type ReloadClientsCommand = { type: 'start' } | { type: 'stop' } | { type: 'count' };
export type ReloadClientsReport =
  | { type: 'connected'; open: number; failed: number }
  /** Answer to `count`: connections made again after a close (--reconnect). */
  | { type: 'reopened'; reopened: number }
  | { type: 'result'; echoes: number; wrong: number; closes: number; longestWaitsMs: number[] };

interface Echoer {
  seq: number;
  sentAt: number;
  longest: number;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    connections: { type: 'string', default: '5000' },
    echo: { type: 'string', default: '10' },
    interval: { type: 'string', default: '50' },
    source: { type: 'string', default: '127.9.0' },
    /** The status quo (bench:reload --drain): a closed connection connects again, every 100 ms until it can. */
    reconnect: { type: 'boolean', default: false },
  },
});
const n = Number(values.connections);
const every = Number(values.echo);
const interval = Number(values.interval);
const url = `ws://127.0.0.1:${Number(values.port)}`;
let echoing = false;
let echoes = 0;
let wrong = 0;
let closes = 0;
const echoers: Echoer[] = [];
const send = (conn: Connection<Echoer | undefined>, echoer: Echoer): void => {
  echoer.sentAt = performance.now();
  conn.send(String(++echoer.seq));
};
const client = createClient<Echoer | undefined>({
  transport: 'handle',
  logLevel: 'silent',
  message(conn, data) {
    const echoer = conn.data;
    if (echoer === undefined) return;
    echoes++;
    if (Number(data.toString()) !== echoer.seq) wrong++;
    echoer.longest = Math.max(echoer.longest, performance.now() - echoer.sentAt);
    if (echoing) setTimeout(() => echoing && send(conn, echoer), interval);
  },
  close: (conn) => {
    closes++;
    if (values.reconnect) reconnect(conn.data);
  },
});
let reopened = 0;
const reconnect = (echoer: Echoer | undefined): void => {
  client.connect(url, { ...sources.next(), data: echoer }).then(
    (conn) => {
      reopened++;
      conns.push(conn);
      if (echoing && echoer !== undefined) send(conn, echoer);
    },
    () => void setTimeout(() => reconnect(echoer), 100),
  );
};
const sources = new SourcePorts(values.source);
const conns: Connection<Echoer | undefined>[] = [];

process.on('message', (command: ReloadClientsCommand) => {
  if (command.type === 'count') {
    void toParent({ type: 'reopened', reopened } satisfies ReloadClientsReport);
  } else if (command.type === 'start') {
    echoing = true;
    conns.forEach((conn) => conn.data !== undefined && send(conn, conn.data));
  } else {
    echoing = false;
    setTimeout(() => {
      void toParent({
        type: 'result',
        echoes,
        wrong,
        closes,
        longestWaitsMs: echoers.map((e) => e.longest),
      } satisfies ReloadClientsReport);
    }, 500); // the last echoes in flight come back
  }
});
exitWithParent();
let open = 0;
let failed = 0;
/**
 * A connect that fails during the ramp is tried again (from a fresh source address and port), up to
 * CONNECT_TRIES times: a burst of SYNs beyond the listening socket's backlog (511, shared by every
 * worker where there is no SO_REUSEPORT) is dropped, and the kernel's SYN retries back off past the
 * client's timeout; 14–18 % of 100k connects failed that way on a loaded machine.
 */
const CONNECT_TRIES = 8;
const connectOne = async (echoer: Echoer | undefined): Promise<void> => {
  for (let attempt = 1; ; attempt++) {
    try {
      conns.push(await client.connect(url, { ...sources.next(), data: echoer }));
      open++;
      return;
    } catch {
      if (attempt === CONNECT_TRIES) {
        failed++;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
};
for (let i = 0; i < n; i += 256) {
  await Promise.all(
    Array.from({ length: Math.min(256, n - i) }, (_, j) => {
      const echoer = (i + j) % every === 0 ? { seq: 0, sentAt: 0, longest: 0 } : undefined;
      if (echoer !== undefined) echoers.push(echoer);
      return connectOne(echoer);
    }),
  );
}
await toParent({ type: 'connected', open, failed } satisfies ReloadClientsReport);
