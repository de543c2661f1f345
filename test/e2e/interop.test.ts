import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { echo, start, TRANSPORTS } from '../support/servers.js';

const run = promisify(execFile);

/**
 * Node's own WebSocket client (undici, behind --experimental-websocket on
 * Node 20): a browser-grade peer written by someone else. Text, binary,
 * a 1 MiB message and a clean close with code and reason, both echoed.
 */
const CLIENT = `
const ws = new WebSocket(process.argv[1], ['chat.v1']);
ws.binaryType = 'arraybuffer';
const got = [];
ws.onopen = () => { ws.send('héllo'); ws.send(new Uint8Array([1, 2, 3])); ws.send('x'.repeat(1 << 20)); };
ws.onmessage = (e) => {
  got.push(typeof e.data === 'string' ? (e.data.length > 100 ? 'long:' + e.data.length : e.data) : 'bin:' + [...new Uint8Array(e.data)].join(','));
  if (got.length === 3) ws.close(4000, 'done');
};
ws.onclose = (e) => { console.log(JSON.stringify({ protocol: ws.protocol, got, code: e.code, reason: e.reason, clean: e.wasClean })); };
ws.onerror = (e) => { console.log(JSON.stringify({ error: String(e.message ?? e) })); };
`;

for (const transport of TRANSPORTS) {
  describe(`interop over ${transport}`, () => {
    test("Node's built-in WebSocket client (undici): text, binary, 1 MiB, subprotocol, clean close", async () => {
      const s = await start(transport, { ...echo, protocols: ['chat.v1'] });
      const { stdout } = await run(
        process.execPath,
        ['--experimental-websocket', '--no-warnings', '-e', CLIENT, s.url],
        { timeout: 20000 },
      );
      assert.deepEqual(
        JSON.parse(stdout),
        {
          protocol: 'chat.v1',
          got: ['héllo', 'bin:1,2,3', `long:${1 << 20}`],
          code: 4000,
          reason: 'done',
          clean: true,
        },
        'the Close echo carries the reason back',
      );
      await s.server.close();
    });
  });
}
