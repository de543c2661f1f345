import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../support/raw-client.js';
import { TRANSPORTS } from '../support/servers.js';

const script = fileURLToPath(new URL('../support/limited-server.js', import.meta.url));

/** Starts the echo server in a child whose open-files limit is `fds`. */
async function limitedServer(transport: string, fds: number, cap: string) {
  const child = spawn('sh', ['-c', `ulimit -n ${fds} && exec "${process.execPath}" "${script}" ${transport} ${cap}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = JSON.parse((await lines.next()).value as string) as { port: number; maxConnections: number };
  const stats = async () => {
    child.stdin.write('stats\n');
    return JSON.parse((await lines.next()).value as string) as { connections: number; refused: number };
  };
  return { child, port: first.port, maxConnections: first.maxConnections, stats };
}

async function stop(child: ChildProcess): Promise<void> {
  child.stdin!.end();
  if (child.exitCode === null) await once(child, 'exit');
}

/** Opens a TCP connection and tries the upgrade; resolves with the status line or 'closed'. */
async function attempt(port: number): Promise<{ status: string; client?: RawClient }> {
  try {
    const client = await RawClient.connect(port);
    client.write(client.request());
    await client.until(() => client.response !== '' || client.ended, 'a response', 5000);
    return client.response === '' ? { status: 'closed' } : { status: client.response.split('\r\n')[0]!, client };
  } catch {
    return { status: 'closed' };
  }
}

for (const transport of TRANSPORTS) {
  describe(`accept limits over ${transport}`, () => {
    test('past the open-files limit: extra connections get 503, the server keeps serving and accepts again', async () => {
      const server = await limitedServer(transport, 200, 'auto');
      assert.ok(
        server.maxConnections > 50 && server.maxConnections < 200,
        `cap ${server.maxConnections} derived from ulimit -n 200`,
      );
      const results = [];
      for (let i = 0; i < server.maxConnections + 40; i++) results.push(await attempt(server.port));
      const open = results.filter((r) => r.status === 'HTTP/1.1 101 Switching Protocols');
      const refused = results.filter((r) => r.status.startsWith('HTTP/1.1 503'));
      assert.equal(open.length, server.maxConnections);
      assert.equal(refused.length, 40);
      assert.equal((await server.stats()).refused, 40);
      // Free some descriptors: new connections are accepted and echo.
      for (const r of open.slice(0, 20)) r.client!.destroy();
      for (const r of refused) r.client?.destroy();
      let stats = await server.stats();
      for (let i = 0; i < 100 && stats.connections > server.maxConnections - 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        stats = await server.stats();
      }
      const again = await attempt(server.port);
      assert.equal(again.status, 'HTTP/1.1 101 Switching Protocols');
      again.client!.send(1, 'after the flood');
      assert.equal((await again.client!.frameCount(1))[0]!.payload.toString(), 'after the flood');
      for (const r of [...open, again]) r.client?.destroy();
      await stop(server.child);
    });

    test('with the cap lifted, real EMFILE on accept does not crash the server', async () => {
      const server = await limitedServer(transport, 100, '100000');
      const sockets: net.Socket[] = [];
      for (let i = 0; i < 150; i++) {
        const socket = net.connect(server.port, '127.0.0.1');
        socket.on('error', () => {});
        sockets.push(socket);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(server.child.exitCode, null, 'still running');
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const again = await attempt(server.port);
      assert.equal(again.status, 'HTTP/1.1 101 Switching Protocols');
      again.client!.destroy();
      await stop(server.child);
    });
  });
}
