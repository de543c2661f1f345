import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { TRANSPORTS } from '../support/servers.js';

const run = promisify(execFile);
// dist/test/cli → dist/src/cli/main.js
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

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
