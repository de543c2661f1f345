/**
 * The short, seed-fixed fuzz pass for CI (the long run is `npm run fuzz`):
 * first the oracle is checked against hand-written streams, then the
 * generator against the oracle, then a few thousand mutated and random
 * handshakes and frame streams go through the real reactor on each transport,
 * with the server in a child process. A failure message carries the command
 * that replays the failing case alone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeFrame,
  expectationOf,
  formatSummary,
  generateCase,
  judge,
  LIMITS,
  makePools,
  model,
  Rng,
  runFuzz,
  utf8Scan,
  type ModelEnd,
  type Observed,
} from './fuzz-core.js';
import { TRANSPORTS } from '../support/servers.js';

const SEED = 20_260_601;
const CASES = 700;

const r = new Rng(1);
const f = (
  opcode: number,
  payload: Buffer | string,
  extra: {
    fin?: boolean;
    rsv?: number;
    masked?: boolean;
    form?: 7 | 16 | 64;
    declared?: number;
    declaredHigh?: number;
  } = {},
): Buffer =>
  encodeFrame(r, { opcode, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, ...extra });
const end = (...frames: Buffer[]): ModelEnd => model(Buffer.concat(frames)).end;
const violation = (...codes: number[]) => ({ kind: 'violation', codes });

describe('fuzz oracle (the reference model)', () => {
  test('valid streams: echoes and pongs in order, then the Close echo', () => {
    const result = model(
      Buffer.concat([
        f(1, 'héllo €𝄞'),
        f(9, 'p'),
        f(2, Buffer.from([0, 255])),
        f(1, Buffer.from('€'), { fin: false }),
        f(10, 'x'),
        f(0, Buffer.from([0xe2]), { fin: false }),
        f(0, Buffer.from([0x82, 0xac])),
        f(8, Buffer.from([0x03, 0xe8, 0x6f, 0x6b])),
      ]),
    );
    assert.deepEqual(
      result.replies.map((x) => [x.opcode, x.payload.toString('hex')]),
      [
        [1, Buffer.from('héllo €𝄞').toString('hex')],
        [10, '70'],
        [2, '00ff'],
        [1, Buffer.from('€€').toString('hex')],
      ],
    );
    assert.deepEqual(result.end, { kind: 'close', code: 1000 });
    assert.equal(result.frames, 8);
    assert.deepEqual(end(f(8, '')), { kind: 'close', code: 1005 });
  });

  test('the first violation decides the code', () => {
    const cases: [ModelEnd, object][] = [
      [end(f(1, 'a', { masked: false })), violation(1002)],
      [end(f(1, 'a', { rsv: 4 })), violation(1002)],
      [end(f(3, 'a')), violation(1002)],
      [end(f(9, Buffer.alloc(126), { form: 16 })), violation(1002)],
      [end(f(9, 'a', { fin: false })), violation(1002)],
      [end(f(0, 'a')), violation(1002)],
      [end(f(1, 'a', { fin: false }), f(2, 'b')), violation(1002)],
      [end(f(2, '', { form: 64, declared: 5, declaredHigh: 0x80000000 })), violation(1002, 1009)],
      [end(f(2, '', { form: 64, declared: LIMITS.maxMessageSize + 1 })), violation(1009)],
      [end(f(2, Buffer.alloc(40000), { fin: false }), f(0, Buffer.alloc(30000))), violation(1009)],
      [
        end(...Array.from({ length: 1100 }, (_, i) => f(i === 0 ? 2 : 0, '', { fin: false })), f(0, 'a')),
        violation(1008),
      ],
      [end(f(1, Buffer.from([0xed, 0xa0, 0x80]))), violation(1007)],
      [end(f(1, Buffer.from([0xe2]), { fin: false }), f(0, Buffer.from([0x82]))), violation(1007)],
      [
        end(f(1, Buffer.from([0xf0, 0x90]), { fin: false }), f(0, Buffer.from([0x41]), { fin: false })),
        violation(1007),
      ],
      [end(f(8, Buffer.from([3]))), violation(1002)],
      [end(f(8, Buffer.from([0x03, 0xed]))), violation(1002)],
      [end(f(8, Buffer.from([0x03, 0xe8, 0xff]))), violation(1007)],
      // Header rules come before the payload: an unmasked bad-UTF-8 text is a 1002.
      [end(f(1, Buffer.from([0xff]), { masked: false })), violation(1002)],
    ];
    for (const [i, [actual, expected]] of cases.entries()) {
      assert.equal(actual.kind, 'violation', `case ${i}`);
      assert.deepEqual((actual as { codes: number[] }).codes, (expected as { codes: number[] }).codes, `case ${i}`);
    }
  });

  test('incomplete streams: a frame or message in progress, or nothing pending', () => {
    assert.deepEqual(end(), { kind: 'incomplete', inProgress: false });
    assert.deepEqual(end(f(1, 'done')), { kind: 'incomplete', inProgress: false });
    assert.deepEqual(end(f(1, 'done').subarray(0, 3)), { kind: 'incomplete', inProgress: true });
    assert.deepEqual(end(f(2, 'a', { fin: false })), { kind: 'incomplete', inProgress: true });
    // Many fragments are fine while they carry minFragmentSize bytes on average.
    assert.deepEqual(
      end(
        ...Array.from({ length: 1100 }, (_, i) => f(i === 0 ? 2 : 0, 'abcdefghijklmnopq', { fin: false })),
        f(0, 'a'),
      ),
      { kind: 'incomplete', inProgress: false },
    );
    // A violation visible in a partial header is already a violation.
    assert.equal(end(Buffer.from([0x83])).kind, 'incomplete');
    assert.equal(end(Buffer.from([0x83, 0x80])).kind, 'violation');
  });

  test('UTF-8 scanning follows Unicode Table 3-7 and agrees with the platform decoder', () => {
    const rr = new Rng(99);
    for (let i = 0; i < 20000; i++) {
      const bytes = rr.bytes(rr.int(6));
      const ours = utf8Scan(0, bytes, 0, bytes.length) === 0;
      const platform = Buffer.from(new TextDecoder('utf-8', { fatal: false }).decode(bytes)).equals(bytes);
      assert.equal(ours, platform, bytes.toString('hex'));
    }
  });
});

describe('fuzz generator', () => {
  const pools = makePools(SEED);

  test('cases are a pure function of (seed, index): any case replays alone', () => {
    for (const index of [0, 7, 123, 4567]) {
      const a = generateCase(SEED, index, pools, 'ci');
      const b = generateCase(SEED, index, makePools(SEED), 'ci');
      assert.ok(
        a.head.equals(b.head) && a.body.equals(b.body) && a.ending === b.ending && a.delivery === b.delivery,
        `case ${index}`,
      );
    }
  });

  test('every injected violation is the first one the model finds, with the intended code', () => {
    const noServer: Observed = {
      status: null,
      responseLine: '',
      acceptValid: null,
      replies: 0,
      mismatch: null,
      closeCode: null,
      closeReason: '',
      badFrame: null,
      framesAfterClose: 0,
      bytesAfterRefusal: 0,
      timedOut: false,
      bytesWritten: 0,
      connectError: null,
      ms: 0,
    };
    const kinds = new Set<string>();
    for (let index = 0; index < 3000; index++) {
      const c = generateCase(SEED, index, pools, index % 10 === 0 ? 'long' : 'ci');
      const problems = judge({ ...c, ending: 'reset' }, expectationOf(c), noServer).problems.filter((p) =>
        p.startsWith('HARNESS'),
      );
      assert.deepEqual(problems, [], `case ${index}`);
      kinds.add(c.bodyKind);
    }
    assert.ok(kinds.size >= 20, `only ${kinds.size} kinds of body: ${[...kinds].join(', ')}`);
  });
});

for (const transport of TRANSPORTS) {
  describe(`fuzz over ${transport}`, () => {
    test(
      `${CASES} seeded connections: no crash, right codes and echoes, pool back to zero`,
      { timeout: 60_000 },
      async () => {
        const summary = await runFuzz({
          seed: SEED,
          transport,
          profile: 'ci',
          cases: CASES,
          concurrency: 48,
          boundMs: 20_000,
        });
        const report = formatSummary(summary);
        assert.equal(summary.crashed, null, report);
        assert.ok(summary.alive, report);
        assert.equal(summary.failureCount, 0, report);
        assert.equal(summary.cases, CASES, report);
        const last = summary.finalStats!;
        assert.equal(last.connections, 0, report);
        assert.equal(last.handshaking, 0, report);
        assert.equal(last.pool.lentBuffers, 0, report);
        // The pass must have reached the interesting places.
        for (const code of ['1002', '1007', '1009', '1008', '1001', '1000'])
          assert.ok((summary.closeCodes[code] ?? 0) > 0, `no close ${code}: ${report}`);
        for (const status of ['101', '400'])
          assert.ok((summary.httpStatuses[status] ?? 0) > 0, `no HTTP ${status}: ${report}`);
        assert.ok(summary.frames > 10_000, report);
      },
    );
  });
}
