/**
 * The load of `bench:heartbeat`: N idle lightws client connections (the client role answers the
 * server's pings, as a real client would). Run by bench/heartbeat.ts through fork(), IPC only:
 *
 *   node dist/bench/load/heartbeat-clients.js --port P --connections N --source 127.a.b
 *
 * Reports `connected` once the ramp is done; `close` closes them all (bounded) and exits.
 */
import { parseArgs } from 'node:util';
import { createClient } from '../../src/index.js';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { SourcePorts } from './sources.js';

export type HeartbeatClientsCommand = { type: 'close' };
export type HeartbeatClientsReport = { type: 'connected'; open: number; failed: number } | { type: 'closed' };

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    connections: { type: 'string', default: '19900' },
    source: { type: 'string', default: '127.9.0' },
  },
});
const n = Number(values.connections);
const url = `ws://127.0.0.1:${Number(values.port)}`;
const send = (r: HeartbeatClientsReport): Promise<void> => toParent(r);
const client = createClient({ transport: 'handle', logLevel: 'silent' });
// Explicit source address and port for each connection: the kernel's own port search crawls past ~18k sockets.
const sources = new SourcePorts(values.source);

process.on('message', (_cmd: HeartbeatClientsCommand) => {
  void client
    .close({ timeoutMs: 1_000 })
    .then(() => send({ type: 'closed' }))
    .then(() => process.exit(0));
});
exitWithParent();
let open = 0;
let failed = 0;
// 256 connects at a time: under the listen backlog (511), so none are dropped into SYN retries.
for (let i = 0; i < n; i += 256) {
  await Promise.all(
    Array.from({ length: Math.min(256, n - i) }, () =>
      client.connect(url, sources.next()).then(
        () => void open++,
        () => void failed++,
      ),
    ),
  );
}
await send({ type: 'connected', open, failed });
