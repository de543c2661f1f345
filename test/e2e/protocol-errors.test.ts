import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until, type Started } from '../support/servers.js';

/** Each case: bytes a broken client sends after the handshake, and the close code it must get. */
const cases: { name: string; code: number; bytes: (c: RawClient) => Buffer }[] = [
  { name: '§5.1 unmasked client frame', code: 1002, bytes: () => Buffer.from([0x81, 0x02, 0x68, 0x69]) },
  { name: '§5.2 RSV1 without an extension', code: 1002, bytes: (c) => withFirstByte(c.frame(1, 'x'), 0xc1) },
  { name: '§5.2 reserved opcode 3', code: 1002, bytes: (c) => withFirstByte(c.frame(1, 'x'), 0x83) },
  { name: '§5.2 reserved opcode 11', code: 1002, bytes: (c) => withFirstByte(c.frame(9, 'x'), 0x8b) },
  { name: '§5.5 ping over 125 bytes', code: 1002, bytes: () => Buffer.from([0x89, 0xfe, 0x00, 0x7e]) },
  { name: '§5.5 fragmented ping', code: 1002, bytes: (c) => c.frame(9, 'p', false) },
  { name: '§5.4 continuation without a message', code: 1002, bytes: (c) => c.frame(0, 'x') },
  {
    name: '§5.4 new data frame inside a fragmented message',
    code: 1002,
    bytes: (c) => Buffer.concat([c.frame(1, 'a', false), c.frame(1, 'b')]),
  },
  { name: '§8.1 invalid UTF-8 text', code: 1007, bytes: (c) => c.frame(1, Buffer.from([0xed, 0xa0, 0x80])) },
  {
    name: '§8.1 UTF-8 cut at the end of a fragmented text',
    code: 1007,
    bytes: (c) => Buffer.concat([c.frame(1, 'ok', false), c.frame(0, Buffer.from([0xe2, 0x82]))]),
  },
  { name: '§10.4 message over maxMessageSize', code: 1009, bytes: (c) => c.frame(2, Buffer.alloc(4097)) },
  {
    name: '§10.4 fragments over maxMessageSize',
    code: 1009,
    bytes: (c) => Buffer.concat([c.frame(2, Buffer.alloc(3000), false), c.frame(0, Buffer.alloc(1100))]),
  },
  {
    name: '§5.2 64-bit length with the top bit set',
    code: 1009,
    bytes: () => Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]),
  },
  { name: '§5.5.1 close with a 1-byte body', code: 1002, bytes: (c) => c.frame(8, Buffer.from([3])) },
  { name: '§7.4.1 close with code 1005', code: 1002, bytes: (c) => c.frame(8, Buffer.from([0x03, 0xed])) },
  { name: '§7.4.1 close with code 999', code: 1002, bytes: (c) => c.frame(8, Buffer.from([0x03, 0xe7])) },
  { name: '§5.5.1 close reason not UTF-8', code: 1007, bytes: (c) => c.frame(8, Buffer.from([0x03, 0xe8, 0xff])) },
];

function withFirstByte(frame: Buffer, b0: number): Buffer {
  frame[0] = b0;
  return frame;
}

for (const transport of TRANSPORTS) {
  describe(`protocol errors over ${transport}`, () => {
    let s: Started;
    const closes: [number, string][] = [];
    before(async () => {
      s = await start(transport, {
        ...echo,
        maxMessageSize: 4096,
        close: (_c, code, reason) => void closes.push([code, reason]),
      });
    });
    after(async () => {
      await s.server.close({ timeoutMs: 1000 });
    });

    for (const { name, code, bytes } of cases) {
      test(`${name} → close ${code}, and the server keeps serving`, async () => {
        const bystander = await RawClient.open(s.port);
        const client = await RawClient.open(s.port);
        client.write(bytes(client));
        assert.equal(await client.closeCode(), code);
        await client.endOfStream();
        // The other connection is untouched.
        bystander.send(1, 'still here');
        const frames = await bystander.frameCount(1);
        assert.equal(frames[0]!.payload.toString(), 'still here');
        bystander.destroy();
        await until(() => s.server.connections === 0, 5000, 'both connections gone');
        assert.equal(s.server.stats().pool.lentBuffers, 0);
        assert.equal(closes.at(-2)?.[0] ?? closes.at(-1)?.[0], code, 'the close handler saw the code we sent');
      });
    }

    test('handshake errors: 400, 405, 426 and 431 answered over HTTP', async () => {
      const requests: [string, number][] = [
        ['GET / HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Version: 13\r\n\r\n', 400], // an upgrade attempt without Upgrade
        ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 426], // a plain request, and no request handler
        [
          'POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
          405,
        ],
        [
          'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n',
          426,
        ],
        [
          'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n',
          400,
        ],
        [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`, 431],
        [
          'GET / HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
          403,
        ],
      ];
      for (const [request, status] of requests) {
        const client = await RawClient.connect(s.port);
        client.write(request);
        await client.until(() => client.response !== '', `the ${status}`);
        assert.match(client.response, new RegExp(`^HTTP/1.1 ${status} `), request.slice(0, 40));
        if (status === 426) assert.match(client.response, /\r\nSec-WebSocket-Version: 13\r\n/);
        if (status === 426 && !request.includes('Sec-WebSocket'))
          assert.match(client.response, /\r\nUpgrade: websocket\r\n/, 'a plain request learns which protocol to speak');
        await client.endOfStream();
      }
      await until(() => s.server.stats().handshaking === 0, 5000, 'refused connections gone');
      assert.equal(s.server.stats().pool.lentBuffers, 0);
    });

    test('bytes that cannot begin an HTTP request get 400 at once, not at the head limit or the timeout; a trickled request still opens', async () => {
      const garbage = [
        Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]),
        Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'),
        Buffer.from('GET /\x01 HTTP/1.1'),
      ];
      for (const bytes of garbage) {
        const started = Date.now();
        const client = await RawClient.connect(s.port);
        client.write(bytes);
        await client.until(() => client.response !== '', 'the 400', 3000);
        assert.match(client.response, /^HTTP\/1.1 400 /);
        assert.match(client.received.toString('latin1'), /not an HTTP request/);
        assert.ok(Date.now() - started < 2000, 'answered at once (the handshake timeout is 10 s)');
        client.socket.end();
        await client.endOfStream();
      }
      // A valid request one byte per read is never refused along the way.
      const slow = await RawClient.connect(s.port);
      await slow.trickle(Buffer.from(slow.request(), 'latin1'));
      await slow.until(() => slow.response !== '', 'the 101');
      assert.match(slow.response, /^HTTP\/1.1 101 /);
      slow.destroy();
      await until(() => s.server.connections === 0, 5000, 'all gone');
      assert.equal(s.server.stats().pool.lentBuffers, 0);
    });

    test('a refused handshake still gets its answer when the client keeps sending (found by the fuzzer)', async () => {
      const refusedBefore = s.server.stats().handshakesRefused;
      const client = await RawClient.connect(s.port);
      client.write('GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n'); // obs-fold → 400
      for (let round = 0; round < 5; round++) {
        client.write(Buffer.alloc(16384, 0x41)); // more, past maxHeaderSize, after the answer
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await client.until(() => client.response !== '', 'the 400', 5000);
      assert.match(client.response, /^HTTP\/1.1 400 /);
      client.socket.end();
      await client.endOfStream();
      assert.equal(client.error, undefined, 'no reset: the server reads and drops the rest until we hang up');
      assert.equal(client.received.toString('latin1').split('HTTP/1.1 ').length - 1, 1, 'exactly one answer');
      assert.equal(
        s.server.stats().handshakesRefused - refusedBefore,
        1,
        'what followed was not parsed as another request',
      );
      await until(() => s.server.stats().handshaking === 0, 5000, 'gone');
      assert.equal(s.server.stats().pool.lentBuffers, 0);
    });

    test('random bytes after the handshake never crash the server', async () => {
      let seed = 99;
      const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      for (let round = 0; round < 30; round++) {
        const client = await RawClient.open(s.port);
        const junk = Buffer.alloc(1 + Math.floor(random() * 200));
        for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(random() * 256);
        client.write(junk);
        client.socket.end();
        await client.endOfStream();
      }
      await until(() => s.server.connections === 0, 5000, 'all gone');
      const check = await RawClient.open(s.port);
      check.send(1, 'alive');
      assert.equal((await check.frameCount(1))[0]!.payload.toString(), 'alive');
      check.destroy();
      await until(() => s.server.connections === 0, 5000, 'check gone');
      assert.equal(s.server.stats().pool.lentBuffers, 0);
    });
  });
}
