import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type Connection } from '../../src/index.js';
import { compile, repo, userProject } from '../support/doc-examples.js';
import { startRedis } from '../support/redis-server.js';
import { until } from '../support/servers.js';

/**
 * examples/ holds runnable programs. Each is compiled as a user's project
 * would compile it (strict, exactOptionalPropertyTypes,
 * noUncheckedIndexedAccess, `lightws` by its name), started on a free port,
 * talked to by a client that checks the replies, then sent SIGTERM: it must
 * close its connections (1001) and exit 0.
 */

const EXAMPLES = readdirSync(join(repo, 'examples'))
  .filter((f) => f.endsWith('.ts'))
  .sort();

interface Running {
  child: ChildProcessWithoutNullStreams;
  port: number;
  stdout: () => string;
  stderr: () => string;
}

/** A client that records every message and close, per connection. */
function recorder() {
  const heard = new Map<Connection<unknown>, string[]>();
  const closes = new Map<Connection<unknown>, number>();
  const client = createClient({
    message: (conn, data, isBinary) => void heard.get(conn)?.push(isBinary ? `<${data.length} bytes>` : String(data)),
    close: (conn, code) => void closes.set(conn, code),
  });
  return {
    client,
    closes,
    async connect(
      url: string,
      headers: Record<string, string> = {},
    ): Promise<{ conn: Connection<unknown>; lines: string[] }> {
      const conn = await client.connect(url, { headers });
      const lines: string[] = [];
      heard.set(conn, lines);
      return { conn, lines };
    },
  };
}

describe('examples/', () => {
  test('every example compiles under a strict user tsconfig, starts, answers its client and stops on SIGTERM', async (t) => {
    const work = userProject(t, 'examples');
    cpSync(join(repo, 'examples'), join(work, 'examples'), { recursive: true });
    await compile(
      work,
      EXAMPLES.map((f) => `examples/${f}`),
    );
    assert.deepEqual(EXAMPLES, Object.keys(SCENARIOS).sort(), 'one scenario per example');
    for (const example of EXAMPLES) {
      await t.test(example, async () => {
        const script = join(work, 'out/examples', example.replace(/\.ts$/, '.js'));
        const started: Running[] = [];
        const start = async (env: Record<string, string> = {}): Promise<Running> => {
          const running = await startExample(script, env);
          started.push(running);
          return running;
        };
        try {
          await SCENARIOS[example]!(start);
        } catch (error) {
          for (const running of started) running.child.kill('SIGKILL');
          const output = started.map((r) => `stdout: ${r.stdout()}\nstderr: ${r.stderr()}`).join('\n');
          throw new Error(`${example}: ${(error as Error).message}\n${output}`, { cause: error });
        }
      });
    }
  });
});

async function startExample(script: string, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line: ${out} ${err}`)), 20_000);
    child.stdout.on('data', () => {
      const found = /listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (found !== null) {
        clearTimeout(timer);
        resolve(Number(found[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening: ${out} ${err}`));
    });
  });
  return { child, port, stdout: () => out, stderr: () => err };
}

/** SIGTERM: the example must close the open connections with 1001 and exit 0. */
async function stopsOnSigterm(running: Running, open: Connection<unknown>[], closes: Map<Connection<unknown>, number>) {
  const exited = new Promise<number | null>((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  assert.equal(await exited, 0, 'exit status after SIGTERM');
  await until(() => open.every((conn) => closes.has(conn)), 5000, 'the close of every connection');
  for (const conn of open) assert.equal(closes.get(conn), 1001, 'closed with 1001 (going away)');
}

type Start = (env?: Record<string, string>) => Promise<Running>;

/** Sends `text` from one connection until `lines` has it: a new subscription takes a moment to reach the other processes. */
async function sendUntilHeard(conn: Connection<unknown>, text: string, lines: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!lines.includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" never arrived; heard ${JSON.stringify(lines)}`);
    conn.send(text);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const SCENARIOS: Record<string, (start: Start) => Promise<void>> = {
  async 'echo.ts'(start) {
    const running = await start();
    const r = recorder();
    const { conn, lines } = await r.connect(`ws://127.0.0.1:${running.port}/`);
    conn.send('hello');
    conn.send(Buffer.from([1, 2, 3]));
    await until(() => lines.length === 2, 5000, 'two echoes');
    assert.deepEqual(lines, ['hello', '<3 bytes>']);
    await stopsOnSigterm(running, [conn], r.closes);
    await r.client.close();
  },

  async 'chat.ts'(start) {
    const running = await start();
    const base = `ws://127.0.0.1:${running.port}`;
    const r = recorder();
    await assert.rejects(r.connect(`${base}/rooms/blue?token=wrong`), (error: Error & { statusCode?: number }) => {
      assert.equal(error.statusCode, 401);
      return true;
    });
    const alice = await r.connect(`${base}/rooms/blue?token=t0k3n-alice`);
    const bob = await r.connect(`${base}/rooms/blue?token=t0k3n-bob`);
    await until(() => alice.lines.includes('* bob joined blue'), 5000, 'alice to see bob join');
    bob.conn.send('hi alice');
    await until(() => alice.lines.includes('bob: hi alice') && bob.lines.includes('bob: hi alice'), 5000, 'the line');
    bob.conn.send('/join green');
    await until(() => alice.lines.includes('* bob left'), 5000, 'bob leaving blue');
    alice.conn.send('still here?');
    await until(() => alice.lines.includes('alice: still here?'), 5000, "alice's own line");
    assert.ok(!bob.lines.includes('alice: still here?'), 'bob is in another room');
    await stopsOnSigterm(running, [alice.conn, bob.conn], r.closes);
    await r.client.close();
  },

  async 'game-lobby.ts'(start) {
    const running = await start();
    const base = `ws://127.0.0.1:${running.port}`;
    const http = `http://127.0.0.1:${running.port}`;
    const r = recorder();
    await assert.rejects(r.connect(`${base}/?token=nope`), (error: Error & { statusCode?: number }) => {
      assert.equal(error.statusCode, 401);
      return true;
    });
    const health = await fetch(`${http}/healthz`);
    assert.deepEqual([health.status, (await health.text()).trim()], [200, 'ok']);
    const ada = await r.connect(`${base}/?token=t0k3n-ada`);
    const bo = await r.connect(`${base}/?token=t0k3n-bo`);
    ada.conn.send('join red');
    await until(() => ada.lines.includes('joined red (1 here)'), 5000, 'ada joining');
    bo.conn.send('join red');
    await until(() => ada.lines.includes('bo joined') && bo.lines.includes('joined red (2 here)'), 5000, 'bo joining');
    bo.conn.send('move e2e4');
    await until(() => ada.lines.includes('bo: e2e4'), 5000, "bo's move");
    assert.ok(!bo.lines.includes('bo: e2e4'), 'conn.publish skips the sender');
    // 64 chunks of 64 KiB = 4 MiB, past the 256 KiB high-water mark: sent as the connection drains.
    ada.conn.send('snapshot 64');
    await until(() => ada.lines.includes('snapshot done'), 20_000, 'the snapshot');
    assert.equal(ada.lines.filter((l) => l === `<${64 * 1024} bytes>`).length, 64, 'every chunk, none dropped');
    const status = (await (await fetch(`${http}/status`)).json()) as { players: number; handlerErrors: number };
    assert.deepEqual(status, { players: 2, handlerErrors: 0 });
    assert.equal((await fetch(`${http}/nowhere`)).status, 404);
    await stopsOnSigterm(running, [ada.conn, bo.conn], r.closes);
    assert.match(running.stdout(), /lobby: closed \d+, terminated 0/);
    await r.client.close();
  },

  async 'cluster.ts'(start) {
    const running = await start({ WORKERS: '2' });
    assert.match(running.stdout(), /cluster: 2 workers listening/);
    const r = recorder();
    const url = `ws://127.0.0.1:${running.port}/blue`;
    const alice = await r.connect(url);
    const bob = await r.connect(url);
    const carol = await r.connect(`ws://127.0.0.1:${running.port}/green`);
    await sendUntilHeard(alice.conn, 'hi from alice', bob.lines);
    assert.ok(!alice.lines.includes('hi from alice'), 'not back to the sender');
    assert.deepEqual(carol.lines, [], 'another room hears nothing');
    await stopsOnSigterm(running, [alice.conn, bob.conn, carol.conn], r.closes);
    await r.client.close();
  },

  async 'redis-fanout.ts'(start) {
    const redis = await startRedis();
    try {
      const a = await start({ REDIS_URL: redis.url });
      const b = await start({ REDIS_URL: redis.url });
      const r = recorder();
      const alice = await r.connect(`ws://127.0.0.1:${a.port}/lobby`);
      const bob = await r.connect(`ws://127.0.0.1:${b.port}/lobby`);
      await sendUntilHeard(alice.conn, 'hello from server a', bob.lines);
      await sendUntilHeard(bob.conn, 'hello from server b', alice.lines);
      await stopsOnSigterm(a, [alice.conn], r.closes);
      await stopsOnSigterm(b, [bob.conn], r.closes);
      await r.client.close();
    } finally {
      await redis.stop();
    }
  },

  async 'http-attach.ts'(start) {
    const running = await start();
    const http = `http://127.0.0.1:${running.port}`;
    assert.equal(await (await fetch(`${http}/`)).text(), 'plain HTTP is still yours\n');
    const r = recorder();
    await assert.rejects(r.connect(`ws://127.0.0.1:${running.port}/`), (error: Error & { statusCode?: number }) => {
      assert.equal(error.statusCode, 401);
      return true;
    });
    const { conn, lines } = await r.connect(`ws://127.0.0.1:${running.port}/`, { 'X-User': 'ada' });
    conn.send('hi');
    await until(() => lines.length === 1, 5000, 'the answer');
    assert.deepEqual(lines, ['ada said hi']);
    await stopsOnSigterm(running, [conn], r.closes);
    await r.client.close();
  },
};
