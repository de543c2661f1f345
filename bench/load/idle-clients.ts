/**
 * Load-generator process for `bench:idle`: opens WebSocket connections on
 * command and holds them idle. Run by bench/idle.ts through fork() (it talks
 * over IPC only). One process holds at most ~19.9k connections: the limit of
 * open files here is 20,000 per process.
 *
 *   node dist/bench/load/idle-clients.js --port P [--host 127.0.0.1]
 *        --sources 127.9.1.1,127.9.1.2 [--per-source 20000] [--in-flight 256]
 */
import { parseArgs } from 'node:util';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { die } from '../lib/status.js';
import { RawClientPool, type RawConnection } from './raw-client.js';

/** Orchestrator → load process. */
export type ClientCommand = { type: 'ramp'; to: number } | { type: 'quit' };

/** Load process → orchestrator. */
export type ClientReport =
  | { type: 'ready' }
  | { type: 'progress'; open: number; failed: number; inFlight: number }
  | {
      type: 'ramped';
      open: number;
      failed: number;
      /** Opened in this ramp, and how long the ramp took (connect + upgrade + 101 validated). */
      opened: number;
      elapsedMs: number;
      errors: Record<string, number>;
      /** Open connections the server closed so far: must stay 0 while idle. */
      closedByPeer: number;
      /** Bytes the server sent to idle connections that were not a Close frame. */
      unexpectedBytes: number;
    }
  | { type: 'quitted'; closedByPeer: number; closeFrames: number };

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    sources: { type: 'string', default: '127.0.0.2' },
    'per-source': { type: 'string', default: '20000' },
    'in-flight': { type: 'string', default: '256' },
    extensions: { type: 'string' },
  },
});

const send = (report: ClientReport): Promise<void> => toParent(report);

let closeFrames = 0;
let unexpectedBytes = 0;
const pool = new RawClientPool({
  host: values.host,
  port: Number(values.port),
  sources: values.sources.split(','),
  perSource: Number(values['per-source']),
  maxInFlight: Number(values['in-flight']),
  ...(values.extensions === undefined ? {} : { extensions: values.extensions }),
  // Idle connections hear from the server only when it shuts down: a Close
  // frame (0x88, FIN + opcode 8). Answer it by closing the TCP connection,
  // which the server reads as EOF and so finishes its close at once.
  onData(conn: RawConnection, buf: Buffer, start: number, end: number): void {
    if (buf[start] === 0x88) {
      closeFrames++;
      pool.close(conn);
    } else {
      unexpectedBytes += end - start;
    }
  },
});

async function ramp(to: number): Promise<void> {
  const progress = setInterval(
    () => void send({ type: 'progress', open: pool.open.length, failed: pool.failed, inFlight: pool.inFlight }),
    100,
  );
  try {
    const result = await pool.connect(Math.max(0, to - pool.open.length));
    await send({
      type: 'ramped',
      open: pool.open.length,
      failed: pool.failed,
      opened: result.opened,
      elapsedMs: result.elapsedMs,
      errors: result.errors,
      closedByPeer: pool.closedByPeer,
      unexpectedBytes,
    });
  } finally {
    clearInterval(progress);
  }
}

async function quit(): Promise<void> {
  // Connections the server already closed are gone; close what is left ourselves.
  await pool.closeAll();
  await send({ type: 'quitted', closedByPeer: pool.closedByPeer, closeFrames });
  process.exit(0);
}

process.on('message', (message: ClientCommand) => {
  const done = message.type === 'ramp' ? ramp(message.to) : quit();
  done.catch((error: unknown) => die('idle-clients', error));
});
exitWithParent();
void send({ type: 'ready' });
