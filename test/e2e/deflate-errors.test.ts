import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { backReference, compress, RSV1, zipBomb } from '../support/deflate.js';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until, type Started } from '../support/servers.js';

const OFFER = 'permessage-deflate; client_max_window_bits';

/** Each case: what a broken deflate client sends after the handshake, and the close code it must get. */
const cases: { name: string; code: number; negotiate?: false; bytes: (c: RawClient) => Buffer }[] = [
  // 1 MiB on the wire, 1 GiB inflated: closed once maxMessageSize (16 MiB, the default) came out.
  {
    name: 'RFC 7692 §7.2.2 + RFC 6455 §10.4: a zip bomb (1 MiB → 1 GiB)',
    code: 1009,
    bytes: (c) => c.frame(2 | RSV1, zipBomb()),
  },
  {
    name: 'RFC 7692 §7.2.2: a corrupt compressed stream',
    code: 1007,
    bytes: (c) => c.frame(2 | RSV1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00])),
  },
  {
    name: 'RFC 7692 §7.2.2: a first message referring back to a window it never had',
    code: 1007,
    bytes: (c) => c.frame(1 | RSV1, backReference()),
  },
  {
    name: 'RFC 6455 §8.1: compressed text that inflates to invalid UTF-8',
    code: 1007,
    bytes: (c) => c.frame(1 | RSV1, compress(Buffer.from([0x68, 0xed, 0xa0, 0x80]))),
  },
  { name: 'RFC 7692 §6.1: RSV1 on a ping', code: 1002, bytes: (c) => c.frame(9 | RSV1, 'p') },
  {
    name: 'RFC 7692 §6.1: RSV1 on a continuation frame',
    code: 1002,
    bytes: (c) =>
      Buffer.concat([
        c.frame(1 | RSV1, compress('ab').subarray(0, 1), false),
        c.frame(0 | RSV1, compress('ab').subarray(1)),
      ]),
  },
  {
    name: 'RFC 6455 §5.2: RSV1 when permessage-deflate was not negotiated',
    code: 1002,
    negotiate: false,
    bytes: (c) => c.frame(1 | RSV1, compress('hello')),
  },
];

for (const transport of TRANSPORTS) {
  for (const mode of ['shared', 'window'] as const) {
    describe(`permessage-deflate protocol errors over ${transport}, mode ${mode}`, () => {
      let s: Started;
      before(async () => {
        s = await start(transport, { ...echo, deflate: mode });
      });
      after(async () => {
        await s.server.close({ timeoutMs: 1000 });
      });

      for (const { name, code, negotiate, bytes } of cases) {
        test(`${name} → close ${code}; only that connection, a bystander keeps echoing`, async () => {
          const bystander = await RawClient.open(s.port, {}, OFFER);
          const client = await RawClient.open(s.port, {}, negotiate === false ? undefined : OFFER);
          assert.equal(client.extensions === '', negotiate === false);
          bystander.send(1 | RSV1, compress('before'));
          client.write(bytes(client));
          assert.equal(await client.closeCode(10_000), code);
          await client.endOfStream();
          // The shared decompressor is reset after the failure: the bystander's next message inflates.
          bystander.send(1 | RSV1, compress('after'));
          bystander.send(1, 'plain');
          const frames = await bystander.frameCount(3);
          assert.deepEqual(
            frames.map((f) => f.payload.toString()),
            ['before', 'after', 'plain'],
          );
          bystander.destroy();
          await until(() => s.server.connections === 0, 5000, 'both connections gone');
          const stats = s.server.stats();
          assert.equal(stats.pool.lentBuffers, 0, 'every pooled buffer back');
          assert.equal(stats.deflate.reservedBytes, 0, 'the deflate budget back to zero');
        });
      }
    });
  }
}
