/**
 * The server of `bench:heartbeat`: lightws (handle transport) with heartbeats on (or off with
 * --ping 0), echo off, measured from inside on command. Run by bench/heartbeat.ts through
 * fork(), IPC only:
 *
 *   node dist/bench/servers/heartbeat-server.js --ping 10000 --idle 25000
 *
 * Commands: `stats` → its CPU since it started, pings sent, connections; `close` → closes the
 * server (bounded) and exits.
 */
import { parseArgs } from 'node:util';
import { createServer } from '../../src/index.js';
import { exitWithParent, toParent } from '../lib/ipc.js';

export type HeartbeatServerCommand = { type: 'stats' } | { type: 'close' };
export type HeartbeatServerReport =
  | { type: 'ready'; port: number }
  | { type: 'stats'; cpuUs: number; pingsSent: number; connections: number }
  | { type: 'closed' };

const { values } = parseArgs({
  options: { ping: { type: 'string', default: '10000' }, idle: { type: 'string', default: '25000' } },
});
const ping = Number(values.ping);
const send = (r: HeartbeatServerReport): Promise<void> => toParent(r);

const server = createServer({
  transport: 'handle',
  logLevel: 'silent',
  pingIntervalMs: ping,
  idleTimeoutMs: ping === 0 ? 0 : Number(values.idle),
});
const { port } = await server.listen(0, '127.0.0.1');
process.on('message', (cmd: HeartbeatServerCommand) => {
  if (cmd.type === 'stats') {
    const cpu = process.cpuUsage();
    const stats = server.stats();
    void send({
      type: 'stats',
      cpuUs: cpu.user + cpu.system,
      pingsSent: stats.pingsSent,
      connections: stats.connections,
    });
  } else {
    void server
      .close({ timeoutMs: 1_000 })
      .then(() => send({ type: 'closed' }))
      .then(() => process.exit(0));
  }
});
exitWithParent();
await send({ type: 'ready', port });
