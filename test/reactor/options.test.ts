import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveOptions } from '../../src/reactor/options.js';

// dist/test/reactor → src/reactor/options.ts
const SOURCE = fileURLToPath(new URL('../../../src/reactor/options.ts', import.meta.url));

interface Row {
  /** The check: an option's name for the range checks (`positive`, `within`), else what the direct throw is about. */
  check: string;
  options: Record<string, unknown>;
  error: typeof RangeError | typeof TypeError;
  /** The message, which names the option, so a user knows what to fix. */
  message: RegExp;
}

/** One row per check resolveOptions makes; the test below fails on a check without one. */
const ROWS: readonly Row[] = [
  {
    check: 'maxMessageSize',
    options: { maxMessageSize: 0 },
    error: RangeError,
    message: /^maxMessageSize must be an integer from 1 to 9007199254740991, not 0$/,
  },
  {
    check: 'maxHeaderSize',
    options: { maxHeaderSize: (1 << 20) + 1 },
    error: RangeError,
    message: /^maxHeaderSize must be an integer from 1 to 1048576, not 1048577$/,
  },
  {
    check: 'maxRequestBodySize',
    options: { maxRequestBodySize: -1 },
    error: RangeError,
    message: /^maxRequestBodySize must be an integer from 0 to 1073741824, not -1$/,
  },
  {
    check: 'healthPath',
    options: { healthPath: 'healthz' },
    error: TypeError,
    message: /^healthPath must be a path such as '\/healthz', not "healthz"$/,
  },
  {
    check: 'metricsPath',
    options: { metricsPath: '/metrics?x' },
    error: TypeError,
    message: /^metricsPath must be a path such as '\/metrics', not "\/metrics\?x"$/,
  },
  {
    check: 'allowedHosts',
    options: { allowedHosts: ['evil.example/path'] },
    error: TypeError,
    message: /^allowedHosts must be a list of host names such as \['localhost'\], not \["evil\.example\/path"\]$/,
  },
  {
    check: 'healthPath and metricsPath differ',
    options: { healthPath: '/x', metricsPath: '/x' },
    error: TypeError,
    message: /^healthPath and metricsPath must differ$/,
  },
  {
    check: 'maxConnections',
    options: { maxConnections: 1.5 },
    error: RangeError,
    message: /^maxConnections must be an integer from 1 to 9007199254740991, not 1\.5$/,
  },
  {
    check: 'readSlabSize',
    options: { readSlabSize: (1 << 26) + 1 },
    error: RangeError,
    message: /^readSlabSize must be an integer from 1 to 67108864, not 67108865$/,
  },
  {
    check: 'readSlabSize at least 1024',
    options: { readSlabSize: 1023 },
    error: RangeError,
    message: /^readSlabSize must be at least 1024 bytes$/,
  },
  {
    check: 'maxBufferedBytes',
    options: { maxBufferedBytes: 0 },
    error: RangeError,
    message: /^maxBufferedBytes must be an integer from 1 to 9007199254740991, not 0$/,
  },
  {
    check: 'maxMemoryBytes',
    options: { maxMemoryBytes: Number.NaN },
    error: RangeError,
    message: /^maxMemoryBytes must be an integer from 1 to 9007199254740991, not NaN$/,
  },
  {
    check: 'backpressure',
    options: { backpressure: 'queue' },
    error: RangeError,
    message: /^backpressure must be 'close' or 'drop'$/,
  },
  {
    check: 'minFragmentSize',
    options: { minFragmentSize: -1 },
    error: RangeError,
    message: /^minFragmentSize must be an integer from 0 to 2147483647, not -1$/,
  },
  {
    check: 'handshakeTimeoutMs',
    options: { handshakeTimeoutMs: 2 ** 31 },
    error: RangeError,
    message: /^handshakeTimeoutMs must be an integer from 0 to 2147483647, not 2147483648$/,
  },
  {
    check: 'idleTimeoutMs',
    options: { idleTimeoutMs: 0.5 },
    error: RangeError,
    message: /^idleTimeoutMs must be an integer from 0 to 2147483647, not 0\.5$/,
  },
  {
    check: 'closeTimeoutMs',
    options: { closeTimeoutMs: -1 },
    error: RangeError,
    message: /^closeTimeoutMs must be an integer from 0 to 2147483647, not -1$/,
  },
  {
    check: 'pingIntervalMs',
    options: { pingIntervalMs: Infinity },
    error: RangeError,
    message: /^pingIntervalMs must be an integer from 0 to 2147483647, not Infinity$/,
  },
  {
    check: 'slowMessageTimeoutMs',
    options: { slowMessageTimeoutMs: -5 },
    error: RangeError,
    message: /^slowMessageTimeoutMs must be an integer from 0 to 2147483647, not -5$/,
  },
  {
    check: 'minMessageRate',
    options: { minMessageRate: 1.25 },
    error: RangeError,
    message: /^minMessageRate must be an integer from 0 to 2147483647, not 1\.25$/,
  },
  {
    check: 'keepAliveMs',
    options: { keepAliveMs: -1 },
    error: RangeError,
    message: /^keepAliveMs must be an integer from 0 to 2147483647, not -1$/,
  },
  {
    check: 'poolRetainedBytes',
    options: { poolRetainedBytes: 2 ** 31 },
    error: RangeError,
    message: /^poolRetainedBytes must be an integer from 0 to 2147483647, not 2147483648$/,
  },
  {
    check: 'idleTimeoutMs longer than pingIntervalMs',
    options: { pingIntervalMs: 1000, idleTimeoutMs: 1000 },
    error: RangeError,
    message:
      /^idleTimeoutMs must be longer than pingIntervalMs, so a ping can be answered before the connection is dropped$/,
  },
  {
    check: 'deflate',
    options: { deflate: 'on' },
    error: RangeError,
    message: /^deflate must be 'off', 'shared' or 'window'$/,
  },
  {
    check: 'deflateThreshold',
    options: { deflateThreshold: -1 },
    error: RangeError,
    message: /^deflateThreshold must be an integer from 0 to 2147483647, not -1$/,
  },
  {
    check: 'deflateWindowBits',
    options: { deflateWindowBits: 8 },
    error: RangeError,
    message: /^deflateWindowBits must be an integer from 9 to 15, not 8$/,
  },
  {
    check: 'deflateMemLevel',
    options: { deflateMemLevel: 10 },
    error: RangeError,
    message: /^deflateMemLevel must be an integer from 1 to 9, not 10$/,
  },
  {
    check: 'deflateLevel',
    options: { deflateLevel: -2 },
    error: RangeError,
    message: /^deflateLevel must be an integer from -1 to 9, not -2$/,
  },
  {
    check: 'maxDeflateBytes',
    options: { maxDeflateBytes: -1 },
    error: RangeError,
    message: /^maxDeflateBytes must be an integer from 0 to 9007199254740991, not -1$/,
  },
  {
    check: 'logLevel',
    options: { logLevel: 'verbose' },
    error: RangeError,
    message: /^logLevel must be one of silent, error, warn, info, debug$/,
  },
];

/**
 * The checks `resolveOptions` makes, read from its source: the options it
 * range-checks by name (`positive('x', …)`, `within('x', …)`, and the names
 * listed for a loop of `positive(name, …)`), and its direct throws by the
 * fixed start of their message. A new check adds an entry here without
 * anyone remembering to.
 */
function checksIn(source: string): { named: string[]; direct: string[] } {
  const start = source.indexOf('export function resolveOptions(');
  const end = source.indexOf('\nfunction ', start);
  assert.ok(start >= 0 && end > start, 'resolveOptions found in its source');
  const body = source.slice(start, end);
  const named = [...body.matchAll(/\b(?:positive|within)\(\s*'([A-Za-z]+)'/g)].map((m) => m[1]!);
  for (const loop of body.matchAll(/for \(const (\w+) of \[([^\]]*)\][^)]*\)\s*\{?\s*(?:positive|within)\(\s*\1\b/g)) {
    named.push(...[...loop[2]!.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]!));
  }
  const direct: string[] = [];
  for (const thrown of body.matchAll(/throw new (?:Range|Type)Error\(\s*(['"`])((?:(?!\1).)*)\1/g)) {
    const message = thrown[2]!;
    const looped = /^\$\{(\w+)\}((?:(?!\$\{).)*)/.exec(message);
    if (looped === null) {
      direct.push(message.split('${')[0]!);
      continue;
    }
    // `${name} must be …` in a loop over option names: one check per name.
    const loops = [
      ...body.slice(0, thrown.index).matchAll(new RegExp(`for \\(const ${looped[1]} of \\[([^\\]]*)\\]`, 'g')),
    ];
    assert.ok(loops.length > 0, `the loop over ${looped[1]} for "${message}"`);
    direct.push(...[...loops.at(-1)![1]!.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]! + looped[2]!));
  }
  assert.ok(
    direct.every((prefix) => prefix.length > 0),
    'every direct message starts with fixed text',
  );
  return { named, direct };
}

/** Checks without a row: a named option with no row that names it, a direct throw whose message no row produces. */
function uncovered(checks: { named: string[]; direct: string[] }, thrown: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const name of checks.named)
    if (![...thrown.values()].some((m) => m.startsWith(`${name} must be an integer from `)))
      out.push(`range check of ${name}`);
  for (const prefix of checks.direct)
    if (![...thrown.values()].some((m) => m.startsWith(prefix))) out.push(`throw "${prefix}…"`);
  return out;
}

/** Each row's thrown message, by check, after asserting the row throws what it says. */
function messages(rows: readonly Row[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const row of rows) {
    let thrown: unknown;
    assert.throws(
      () => resolveOptions(row.options),
      (error: unknown) => {
        thrown = error;
        return true;
      },
      row.check,
    );
    assert.ok(
      thrown instanceof row.error && thrown.constructor === row.error,
      `${row.check}: a ${row.error.name}, not ${String(thrown)}`,
    );
    assert.match(thrown.message, row.message, row.check);
    out.set(row.check, thrown.message);
  }
  return out;
}

test('each check of resolveOptions: its row throws that error, with a message naming the option', () => {
  const thrown = messages(ROWS);
  assert.equal(thrown.size, ROWS.length, 'one row per check');
  for (const row of ROWS)
    assert.ok(
      thrown.get(row.check)!.startsWith(row.check.split(' ')[0]!),
      `${row.check}: the message starts with the option's name`,
    );
  // And without the bad value, the same options resolve: each row fails for its one reason.
  assert.doesNotThrow(() => resolveOptions({}));
});

test('the table covers every check in the source of resolveOptions', () => {
  const checks = checksIn(readFileSync(SOURCE, 'utf8'));
  assert.ok(
    checks.named.length >= 20 && checks.direct.length >= 5,
    `${checks.named.length} range checks, ${checks.direct.length} direct throws found`,
  );
  assert.deepEqual(uncovered(checks, messages(ROWS)), []);
  // No row for a check that is gone: every row's message comes from one of the checks found.
  const known = (message: string): boolean =>
    checks.named.some((name) => message.startsWith(`${name} must be an integer from `)) ||
    checks.direct.some((prefix) => message.startsWith(prefix));
  assert.deepEqual(
    [...messages(ROWS)].filter(([, message]) => !known(message)).map(([check]) => check),
    [],
  );
});

test('the coverage check fails on a new check without a row, and on a table missing a row', () => {
  // The check must be able to fail: a source with one more check of each kind, and a table short of a row.
  const source = readFileSync(SOURCE, 'utf8').replace(
    '  return resolved;\n}',
    "  positive('maxWidgets', resolved.maxWidgets, 10);\n  for (const name of ['aMs', 'bMs'] as const) positive(name, 1, 2);\n  if (resolved.x) throw new RangeError(`widgets must be round, not ${resolved.x}`);\n" +
      "  for (const key of ['cPath'] as const) if (resolved[key]) throw new TypeError(`${key} must be a path`);\n  return resolved;\n}",
  );
  assert.notEqual(source, readFileSync(SOURCE, 'utf8'), 'the fixture source was changed');
  assert.deepEqual(uncovered(checksIn(source), messages(ROWS)), [
    'range check of maxWidgets',
    'range check of aMs',
    'range check of bMs',
    'throw "widgets must be round, not …"',
    'throw "cPath must be a path…"',
  ]);
  const short = ROWS.filter((row) => !['deflateLevel', 'backpressure', 'metricsPath'].includes(row.check));
  assert.deepEqual(uncovered(checksIn(readFileSync(SOURCE, 'utf8')), messages(short)), [
    'range check of deflateLevel',
    'throw "metricsPath must be a path such as \'/…"',
    "throw \"backpressure must be 'close' or 'drop'…\"",
  ]);
});
