/**
 * The fuzzed server in a child process (fuzz-server.ts): started, asked for
 * its stats, watched for a crash, stopped.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TransportName } from '../../src/index.js';
import { SERVER_OPTIONS } from './limits.js';

export interface ServerError {
  message: string;
  stack: string;
}

export class FuzzServer {
  port = 0;
  exited: { code: number | null; signal: string | null } | null = null;
  readonly errors: ServerError[] = [];
  stderr = '';
  private waiters: ((stats: ServerStats) => void)[] = [];
  private exitWaiters: (() => void)[] = [];
  /** Set by stop(): an exit after it is not a crash. */
  stopping = false;

  private constructor(readonly child: ChildProcess) {}

  static async start(transport: TransportName, options: object = SERVER_OPTIONS): Promise<FuzzServer> {
    const script = fileURLToPath(new URL('./fuzz-server.js', import.meta.url));
    const child = fork(script, [transport, JSON.stringify(options)], {
      env: { ...process.env, LIGHTWS_POOL_DEBUG: '1' },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    const server = new FuzzServer(child);
    child.stderr!.on('data', (chunk: Buffer) => {
      server.stderr = (server.stderr + chunk.toString('utf8')).slice(-20000);
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.on(
        'message',
        (m: { type: string; port?: number; stats?: ServerStats; message?: string; stack?: string }) => {
          if (m.type === 'ready') {
            server.port = m.port!;
            resolve();
          } else if (m.type === 'stats') server.waiters.shift()?.(m.stats!);
          else if (m.type === 'error') server.errors.push({ message: m.message!, stack: m.stack! });
        },
      );
      child.on('exit', (code, signal) => {
        server.exited = { code, signal };
        for (const w of server.exitWaiters.splice(0)) w();
        reject(new Error(`fuzz server exited early (code ${code}, signal ${signal}): ${server.stderr}`));
      });
    });
    await ready;
    return server;
  }

  get alive(): boolean {
    return this.exited === null;
  }

  stats(timeoutMs = 10000): Promise<ServerStats> {
    if (!this.alive) return Promise.reject(new Error('the server process is gone'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not answer a stats request in time')), timeoutMs);
      this.waiters.push((stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      this.child.send({ type: 'stats' });
    });
  }

  /** Resolves when the child exits (at once if it has). */
  whenExited(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.stopping = true;
    const exited = this.whenExited();
    this.child.send({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export interface ServerStats {
  connections: number;
  handshaking: number;
  accepted: number;
  closed: number;
  protocolErrors: number;
  handlerErrors: number;
  memoryRefusals: number;
  slowConsumersClosed: number;
  handshakesRefused: number;
  opened: number;
  /** What the child's open/message/close handlers saw (fuzz-server.ts). */
  app?: { open: number; opens: number; closes: number; errorCount: number; errors: string[] };
  pool: { lentBuffers: number; lentBytes: number; peakLentBytes: number };
  [key: string]: unknown;
}
