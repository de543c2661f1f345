/**
 * Server process for bench/idle-tls.ts: lightws serving wss:// with an
 * ECDSA P-256 certificate, on node:tls (`--kind tls`) or with the compact
 * record layer (`--kind compact`). Prints its port; answers "count" on
 * stdin with the open and moved connection counts, the JS heap in use and
 * V8's external memory ("gc": the same, after full GCs, when run with --expose-gc). Nothing else runs in it.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createServer } from '../../src/index.js';

const { values } = parseArgs({
  options: { kind: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } },
});
const compact = values.kind === 'compact';
const server = createServer({
  tls: { cert: readFileSync(values.cert!), key: readFileSync(values.key!), compact },
  logLevel: 'silent',
  idleTimeoutMs: 0,
  message: (conn, data, isBinary) => void conn.send(data, isBinary),
});
const { port } = await server.listen(0, '127.0.0.1');
process.stdout.write(`port ${port}\n`);
const moved = (): number => server.stats().tls.compactNow;
const gc = (globalThis as { gc?: () => void }).gc;
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line === 'gc' && gc !== undefined) for (let i = 0; i < 3; i++) gc();
    const { heapUsed, external } = process.memoryUsage();
    process.stdout.write(`count ${server.clients.size} ${moved()} ${heapUsed} ${external}\n`);
  })
  .on('close', () => process.exit(0)); // stdin closed: exit normally (a --cpu-prof profile is written)
