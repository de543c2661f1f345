/**
 * lightws as a benchmark server process (see protocol.ts):
 *
 *   node dist/bench/servers/lightws.js --port 0 --mode echo|broadcast|idle [--transport handle|socket] [--deflate off|shared|window] [--diagnostics] [--limit-young]
 *
 * --diagnostics subscribes a no-op to each of lightws's diagnostics_channel channels, as an APM
 * agent would: the kind `handle-dc` (launch.ts), to compare with `handle` in the same run.
 * --limit-young calls limitYoungGeneration() first, as `lightws echo` does: the kind `handle-young1`.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import {
  createServer,
  DIAGNOSTICS_CHANNELS,
  limitYoungGeneration,
  type DeflateMode,
  type Server,
  type TransportName,
} from '../../src/index.js';
import { type BenchServer, type Mode, isMain, runServerProcess } from './protocol.js';

export async function startLightws(
  port: number,
  mode: Mode,
  transport: TransportName = 'handle',
  host = '127.0.0.1',
  deflate: DeflateMode = 'off',
  diagnostics = false,
): Promise<BenchServer> {
  if (transport !== 'handle' && transport !== 'socket')
    throw new RangeError(`--transport must be handle or socket, not ${String(transport)}`);
  if (diagnostics)
    for (const name of Object.values(DIAGNOSTICS_CHANNELS)) diagnostics_channel.subscribe(name, () => {});
  const server: Server = createServer({
    transport,
    deflate,
    logLevel: 'warn',
    healthPath: '/healthz',
    message:
      mode === 'echo'
        ? (conn, data, isBinary) => void conn.send(data, isBinary)
        : mode === 'broadcast'
          ? (_conn, data, isBinary) => void server.broadcast(data, isBinary)
          : undefined,
  });
  const address = await server.listen(port, host);
  return {
    port: address.port,
    native: false, // no addon: lightws is plain JavaScript by design
    info: { transport: server.transport, deflate, diagnostics },
    // WebSockets only (server.connections counts HTTP keep-alive connections too), as ws's clients.size.
    connections: () => server.clients.size,
    broadcast: (data, isBinary) => server.broadcast(data, isBinary),
    close: async () => void (await server.close({ timeoutMs: 1_000 })),
  };
}

if (isMain(import.meta.url)) {
  void runServerProcess('lightws', ({ port, host, mode, transport, deflate, diagnostics, limitYoung }) => {
    if (deflate === 'on') throw new RangeError("lightws's --deflate is shared or window");
    if (limitYoung) limitYoungGeneration();
    return startLightws(port, mode, (transport ?? 'handle') as 'handle', host, deflate, diagnostics);
  });
}
