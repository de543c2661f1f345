/**
 * A one-worker cluster whose worker, heartbeats on, tells which of lightws's modules it has
 * loaded: for test/cluster/worker-modules.test.ts. The primary prints {"port","pid"} (the
 * worker's); sent SIGUSR2, the worker prints {"modules": [...]}, the src-relative paths of every
 * lightws module it has compiled (from the inspector, which lists each script on enable).
 */
import { Session } from 'node:inspector';
import { fileURLToPath } from 'node:url';
import { createServer, startCluster } from '../../src/index.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function loadedModules(): string[] {
  const session = new Session();
  session.connect();
  const urls: string[] = [];
  session.on('Debugger.scriptParsed', (message) => void urls.push(message.params.url));
  session.post('Debugger.enable'); // reports every script compiled so far, before it returns
  session.disconnect();
  return urls
    .filter((url) => url.startsWith('file:'))
    .map((url) => fileURLToPath(url))
    .filter((path) => path.startsWith(SRC))
    .map((path) => path.slice(SRC.length))
    .sort();
}

const node = await startCluster({ workers: 1, port: 0, host: '127.0.0.1', restartDelayMs: 0 }, () => {
  process.on('SIGUSR2', () => void process.stdout.write(`${JSON.stringify({ modules: loadedModules() })}\n`));
  return createServer({
    logLevel: 'silent',
    transport: 'handle',
    pingIntervalMs: 1000,
    idleTimeoutMs: 5000,
    message: (conn, data, isBinary) => void conn.send(data, isBinary),
  });
});
if (node.role === 'primary')
  process.stdout.write(`${JSON.stringify({ port: node.address.port, pid: node.pids()[0] })}\n`);
