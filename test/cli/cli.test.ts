import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { RawClient } from '../support/raw-client.js';
import { TRANSPORTS } from '../support/servers.js';

const run = promisify(execFile);
// dist/test/cli → dist/src/cli/main.js
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const PACKAGE = fileURLToPath(new URL('../../../package.json', import.meta.url));

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function openWs(url: string, headers?: Record<string, string>): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return ws;
}

interface Serving {
  child: ChildProcess;
  /** The start-up line. */
  line: string;
  port: number;
  /** Every line printed on stdout, the start-up line first. */
  lines: string[];
  exited: Promise<number | null>;
}

/** Starts `lightws ARGS` (`--port 0` unless ARGS say otherwise) and waits for its start-up line; stopped after the test. */
async function serve(t: { after(fn: () => unknown): void }, args: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [CLI, ...(args.includes('--port') ? [] : ['--port', '0']), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const lines: string[] = [];
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (text) => {
      lines.push(text);
      if (lines.length === 1) resolve(text);
    });
    void exited.then((code) => reject(new Error(`lightws exited (${code}) before listening: ${stderr}`)));
  });
  const port = Number(/:(\d+)\//.exec(line)?.[1] ?? /:(\d+)/.exec(line)?.[1]);
  return { child, line, port, lines, exited };
}

/** Runs the CLI to its end; never rejects, so the exit code can be asserted. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 10_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the CLI', () => {
  test('--help lists the log levels and says the CLI default (info) differs from the library default (warn)', async () => {
    const { code, stdout } = await cli(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /--log-level silent\|error\|warn\|info\|debug/);
    assert.match(stdout, /default info here; the library's default \(logLevel\) is warn/);
    assert.match(stdout, /without it, all interfaces/);
  });

  test('each command has its own help: `lightws echo --help`, `lightws help chat`; `lightws help` is the whole usage', async () => {
    for (const args of [
      ['echo', '--help'],
      ['help', 'echo'],
      ['echo', '-h'],
    ]) {
      const { code, stdout } = await cli(args);
      assert.equal(code, 0, args.join(' '));
      assert.match(stdout, /^lightws \S+\n\nUsage:\n {2}lightws echo \[--port 9001\]/, args.join(' '));
      assert.match(stdout, /sends every text and binary message back/);
      assert.doesNotMatch(stdout, /lightws chat/, `${args.join(' ')}: the echo help only`);
    }
    for (const args of [
      ['chat', '--help'],
      ['help', 'chat'],
    ]) {
      const { code, stdout } = await cli(args);
      assert.equal(code, 0, args.join(' '));
      assert.match(stdout, /Usage:\n {2}lightws chat \[--port 9001\]/);
      assert.match(stdout, /\/ws\?room=NAME&nick=NAME/);
      assert.match(stdout, /npm run demo -- --port N/);
      assert.doesNotMatch(stdout, /lightws echo/);
    }
    const whole = await cli(['help']);
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(whole.stdout, (await cli(['--help'])).stdout, '`lightws help` is `lightws --help`');
    assert.match(whole.stdout, /lightws help \[echo\|chat\]/);
    const unknown = await cli(['help', 'serve']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^lightws: no help for serve: the commands are echo, chat\n/);
  });

  test("a usage mistake in a command shows that command's usage", async () => {
    const { code, stderr } = await cli(['chat', '--port', 'x']);
    assert.equal(code, 2);
    assert.match(stderr, /^lightws: --port must be 0–65535, not x\n\nlightws \S+\n\nUsage:\n {2}lightws chat /);
  });

  test('`npm run demo -- --port N`: the demo script with --port appended listens on N, not 9001', async (t) => {
    // The script's command after the build, as npm runs it with the extra arguments appended.
    const script = (JSON.parse(readFileSync(PACKAGE, 'utf8')) as { scripts: Record<string, string> }).scripts.demo!;
    const command = script.split('&&').at(-1)!.trim().split(/\s+/);
    assert.deepEqual(command.slice(0, 2), ['node', 'dist/src/cli/main.js']);
    const port = await freePort();
    const { line } = await serve(t, [...command.slice(2), '--port', String(port)]);
    assert.match(line, new RegExp(`^lightws chat: open http://127\\.0\\.0\\.1:${port}/ in a browser`));
  });

  for (const transport of TRANSPORTS) {
    test(`SIGTERM: the report counts the connections open at the signal; a peer that never answers is terminated (${transport})`, async (t) => {
      const { child, port, lines, exited } = await serve(t, ['echo', '--host', '127.0.0.1', '--transport', transport]);
      const peers = await Promise.all([1, 2].map(() => openWs(`ws://127.0.0.1:${port}/`)));
      const codes = peers.map((ws) => new Promise<number>((resolve) => ws.once('close', resolve)));
      const silent = await RawClient.open(port); // never answers the Close: dropped at closeTimeoutMs (5 s)
      t.after(() => silent.socket.destroy());
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.deepEqual(lines.slice(1), ['SIGTERM: closing 3 connections', 'closed 2, terminated 1']);
      assert.deepEqual(await Promise.all(codes), [1001, 1001]);
    });
  }

  const mistakes: [string, string[], RegExp][] = [
    ['an unknown transport', ['echo', '--transport', 'foo'], /--transport must be auto, handle, socket, not foo/],
    [
      'an unknown log level',
      ['echo', '--log-level', 'loud'],
      /--log-level must be silent, error, warn, info, debug, not loud/,
    ],
    ['a port out of range', ['echo', '--port', '70000'], /--port must be/],
    ['no command', [], /missing command/],
    ['an unknown command', ['serve'], /unknown command: serve/],
    ['an unknown option', ['echo', '--bogus'], /bogus/],
    ['half of the TLS pair', ['echo', '--tls-cert', 'x.pem'], /go together/],
    [
      'TLS on raw handles',
      ['echo', '--tls-cert', 'x.pem', '--tls-key', 'y.pem', '--transport', 'handle'],
      /need --transport socket or auto/,
    ],
    ['--tls-compact without a certificate', ['echo', '--tls-compact'], /--tls-compact needs --tls-cert and --tls-key/],
    [
      '--tls-compact on net sockets',
      ['echo', '--tls-cert', 'x.pem', '--tls-key', 'y.pem', '--tls-compact', '--transport', 'socket'],
      /--tls-compact needs --transport handle or auto/,
    ],
    [
      'TLS in cluster mode',
      ['echo', '--tls-cert', 'x.pem', '--tls-key', 'y.pem', '--workers', '2'],
      /cannot be combined/,
    ],
    ['net sockets in cluster mode', ['echo', '--transport', 'socket', '--workers', '2'], /needs the handle transport/],
    ['zero workers', ['echo', '--workers', '0'], /--workers must be a positive integer/],
  ];
  for (const [what, args, message] of mistakes) {
    test(`a usage mistake exits 2 with the usage: ${what}`, async () => {
      const { code, stderr } = await cli(args);
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.match(stderr, /Usage:\n {2}lightws echo/);
    });
  }

  for (const transport of TRANSPORTS) {
    test(`without --host it prints a URL that works, and says all interfaces (${transport})`, async () => {
      const child = spawn(process.execPath, [CLI, 'echo', '--port', '0', '--transport', transport], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if (out.includes('\n')) resolve(out.split('\n')[0]!);
          });
          child.once('exit', (code) => reject(new Error(`exited ${code} before listening`)));
        });
        const match =
          /^lightws echo listening on (ws:\/\/127\.0\.0\.1:\d+) on all interfaces \(transport: (\w+)\)$/.exec(line);
        assert.ok(match, line);
        assert.equal(match[2], transport);
        const ws = new WebSocket(match[1]!);
        const reply = await new Promise<string>((resolve, reject) => {
          ws.once('open', () => ws.send('through the printed URL'));
          ws.once('message', (data) => resolve(String(data)));
          ws.once('error', reject);
        });
        assert.equal(reply, 'through the printed URL');
        ws.close();
        await new Promise((resolve) => ws.once('close', resolve));
      } finally {
        if (child.exitCode === null) {
          const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
          child.kill('SIGTERM');
          assert.equal(await exited, 0, 'SIGTERM closes gracefully');
        }
      }
    });
  }
});
