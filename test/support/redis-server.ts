/**
 * A real redis-server for the tests (Debian's `redis-server`; .ci/run installs it): started on a
 * free loopback port in the foreground (no daemon, no persistence), waited for, stopped by PID.
 * `kill()` and `restart()` take it down and bring it back on the same port, for the reconnect tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** SIGKILL, as a crash would: no goodbye to the clients. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill). */
  restart(): Promise<void>;
  /** False between kill() and restart(): a test that failed in its outage leaves it so. */
  readonly running: boolean;
  /** Stops it for good (SIGTERM, then SIGKILL after 3 s). */
  stop(): Promise<void>;
}

/**
 * A port free right now on 127.0.0.1, below the kernel's ephemeral range (32768–60999 by default).
 * The kernel's own pick (port 0) would come from that range, and a restart test leaves its port
 * free during the outage: any outgoing connection meanwhile (the suite runs beside other suites
 * in CI, some with thousands of connections) may take it as its source port, and Redis could not
 * come back on it. A port below the range is never handed out as a source port.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** PING until PONG (or the deadline). */
async function answers(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(500);
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

let checked = false;
function requireBinary(): void {
  if (checked) return;
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined)
    throw new Error(
      'redis-server is not installed: apt-get install -y redis-server (the tests start their own, on a free port)',
    );
  checked = true;
}

async function launch(port: number): Promise<ChildProcess> {
  requireBinary();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--supervised',
      'no',
      '--logfile',
      '',
      '--loglevel',
      'warning',
      '--dir',
      '/tmp',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  const failed = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`redis-server exited (${signal ?? code}): ${stderr.trim()}`)),
    ),
  );
  failed.catch(() => {});
  await Promise.race([answers(port, Date.now() + 10_000), failed]);
  return child;
}

/** Starts a redis-server of its own for a test file; stop it in an `after` hook. */
export async function startRedis(): Promise<RedisProcess> {
  let port = await freePort();
  let child: ChildProcess;
  for (let attempt = 0; ; attempt++) {
    try {
      child = await launch(port);
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
      port = await freePort(); // taken meanwhile by someone else: another port
    }
  }
  const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
    const gone = exited(child);
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(timer);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid ?? 0;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    kill: () => stopChild('SIGKILL'),
    restart: async () => {
      child = await launch(port);
    },
    stop: () => stopChild('SIGTERM'),
  };
}
