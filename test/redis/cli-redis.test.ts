import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inspector } from '../support/redis-clients.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';
import { peers } from '../support/topic-nodes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

interface Cli {
  child: ChildProcess;
  url: string;
  exit: Promise<number | null>;
}

async function startCli(args: string[]): Promise<Cli> {
  const child = spawn(
    process.execPath,
    [cli, 'echo', '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /listening on (ws:\/\/[\d.]+:\d+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    void exit.then((code) => reject(new Error(`the CLI exited (${code}) before listening`)));
  });
  return { child, url, exit };
}

test('lightws echo --redis: two servers share rooms by request path; the sender does not get its own message', async () => {
  const look = inspector(redis.url);
  const clients = peers();
  const servers = [await startCli(['--redis', redis.url]), await startCli(['--redis', redis.url])];
  try {
    const [s1, s2] = servers as [Cli, Cli];
    const [c1, c2, c3] = await Promise.all([
      clients.connect(`${s1.url}/lobby`),
      clients.connect(`${s2.url}/lobby?name=x`),
      clients.connect(`${s2.url}/other`),
    ]);
    for (let i = 0; i < 200 && (await look.numsub('lightws:t:/lobby')) < 2; i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.equal(await look.numsub('lightws:t:/lobby'), 2, 'both servers subscribed to the room');
    c1.conn.send('hi from 1');
    await c2.waitFor(1);
    c2.conn.send(Buffer.from([0xde, 0xad]));
    await c1.waitFor(1);
    assert.deepEqual(c2.texts(), ['hi from 1']);
    assert.deepEqual(
      [c1.inbox.length, c1.inbox[0]!.bytes, c1.inbox[0]!.isBinary],
      [1, Buffer.from([0xde, 0xad]), true],
    );
    assert.deepEqual(c3.inbox, [], 'another room');
    assert.equal(c2.inbox.length, 1, 'not its own');
  } finally {
    await clients.close();
    await look.close();
    for (const s of servers) s.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all(servers.map((s) => s.exit)), [0, 0], 'a graceful stop');
  }
});

test('lightws echo --redis without redis or ioredis installed exits 2 and says what to install; a bad URL exits 2', async () => {
  // A copy of the built CLI with no node_modules anywhere above it: what a user without either library has.
  const dir = mkdtempSync(join(tmpdir(), 'lightws-cli-'));
  try {
    cpSync(join(root, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [join(dir, 'dist', 'src', 'cli', 'main.js'), 'echo', ...args], {
          cwd: dir,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
        child.once('exit', (code) => resolve({ code, stderr }));
      });
    const missing = await run(['--redis', redis.url, '--port', '0']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /npm install redis.*npm install ioredis/);
    const bad = await run(['--redis', 'localhost:6379']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--redis must be a redis:\/\/ or rediss:\/\/ URL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
