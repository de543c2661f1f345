import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatsSnapshot } from '../../../src/index.js';
import { renderMetrics } from '../../../src/reactor/observe/metrics.js';
import { HttpRawClient } from '../../support/http-client.js';
import { parseExposition, seriesKey, type ParsedFamily } from '../../support/prometheus-parser.js';
import { RawClient } from '../../support/raw-client.js';
import { echo, start } from '../../support/servers.js';

/**
 * Every number in `server.stats()` must reach /metrics, so a counter added
 * to the snapshot is not silently missing from dashboards. The check finds
 * where each number goes by itself: it gives every numeric leaf of a real
 * snapshot a value of its own, renders that snapshot with the renderer
 * `server.metrics()` and `metricsPath` use, and looks for the value among
 * the samples. No hand-kept map from leaf to family to go stale.
 *
 * A leaf may stay out only if it is named here, with the reason; each
 * reason is checked too (these are totals whose parts are a labelled
 * family, so the sum is there), and an excluded leaf that does show up
 * fails, so the list cannot outlive its reason.
 */
const EXCLUDED: Readonly<
  Record<string, { why: string; holds: (stats: StatsSnapshot, metrics: Map<string, ParsedFamily>) => boolean }>
> = {
  handshakesRefused: {
    why: 'the sum of lightws_upgrades_total{status!="101"}',
    holds: (s, m) => s.handshakesRefused === sum(m, 'lightws_upgrades_total', (l) => l.status !== '101'),
  },
  httpRequests: {
    why: 'the sum of lightws_http_requests_total over status',
    holds: (s, m) => s.httpRequests === sum(m, 'lightws_http_requests_total'),
  },
  protocolErrors: {
    why: 'the sum of lightws_protocol_errors_total over kind',
    holds: (s, m) => s.protocolErrors === sum(m, 'lightws_protocol_errors_total'),
  },
};

function sum(
  metrics: Map<string, ParsedFamily>,
  family: string,
  keep: (labels: Record<string, string>) => boolean = () => true,
): number {
  const samples = metrics.get(family)?.samples;
  assert.ok(samples !== undefined, `${family} is rendered`);
  return samples.filter((s) => keep(s.labels)).reduce((total, s) => total + s.value, 0);
}

/** The numeric leaves of a snapshot, by dotted path ('deflate.bytesInflated', 'closeCodes.1000'); throws on anything not a number or an object. */
function leaves(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, v]) => {
    const path = prefix + key;
    if (typeof v === 'number') return [path];
    if (v !== null && typeof v === 'object') return leaves(v as object, `${path}.`);
    throw new Error(`${path} is a ${typeof v}: the check knows numbers and objects only`);
  });
}

/** A copy of `stats` whose leaf `paths[i]` holds `valueOf(i)`. */
function tagged(stats: StatsSnapshot, paths: readonly string[], valueOf: (i: number) => number): StatsSnapshot {
  const copy = structuredClone(stats) as unknown as Record<string, unknown>;
  paths.forEach((path, i) => {
    const keys = path.split('.');
    let at = copy;
    for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[keys.at(-1)!] = valueOf(i);
  });
  return copy as unknown as StatsSnapshot;
}

/**
 * Leaf → the series that carry its value, from one rendering. Tags are
 * distinct, and no two of them add up to a third (each ends in 007 and a
 * sum of two in 014), so a family that summed leaves could not pass for one.
 */
function whereEachLeafGoes(stats: StatsSnapshot, render: (stats: StatsSnapshot) => string): Map<string, string[]> {
  const paths = leaves(stats);
  const tag = (i: number): number => 100_007 + 1000 * i;
  const families = parseExposition(render(tagged(stats, paths, tag)));
  const found = new Map(paths.map((path) => [path, [] as string[]]));
  const byValue = new Map(paths.map((path, i) => [tag(i), path]));
  for (const family of families.values()) {
    for (const sample of family.samples) {
      const path = byValue.get(sample.value);
      if (path !== undefined) found.get(path)!.push(seriesKey(sample));
    }
  }
  return found;
}

/** What the check reports: leaves nowhere (and not excluded), leaves in more than one series, excluded leaves that are there after all. */
function problems(where: Map<string, string[]>, excluded: readonly string[]): string[] {
  const out: string[] = [];
  for (const [path, series] of where) {
    if (excluded.includes(path)) {
      if (series.length > 0) out.push(`${path} is excluded but reaches ${series.join(', ')}: drop it from the list`);
    } else if (series.length === 0) out.push(`${path} never reaches /metrics`);
    else if (series.length > 1) out.push(`${path} reaches ${series.length} series: ${series.join(', ')}`);
  }
  for (const name of excluded) if (!where.has(name)) out.push(`${name} is excluded but is no leaf of stats()`);
  return out;
}

const render = (stats: StatsSnapshot): string => renderMetrics([{ labels: {}, stats }]);

test('every number in stats() is a series of /metrics, or excluded by name for a reason that holds', async (t) => {
  const s = await start('handle', { ...echo, metricsPath: '/metrics' });
  t.after(() => s.server.close({ timeoutMs: 500 }));
  // Traffic that puts keys in the records filled on demand (refusals and plain responses by status).
  const foreign = await RawClient.connect(s.port);
  foreign.write(foreign.request().replace(/\r\n\r\n$/, '\r\nOrigin: https://elsewhere.example\r\n\r\n'));
  await foreign.until(() => foreign.response !== '', 'the 403');
  foreign.destroy();
  const talker = await RawClient.open(s.port);
  talker.send(1, Buffer.from([0xff])); // invalid UTF-8: a protocol error
  await talker.closeCode();
  talker.destroy();
  const scraper = await HttpRawClient.connect(s.port);
  scraper.send('GET', '/metrics', { Connection: 'close' });
  const scraped = parseExposition((await scraper.next()).body.toString());
  await scraper.closed();

  const stats = s.server.stats();
  const paths = leaves(stats);
  assert.ok(
    paths.includes('handshakeRefusals.403') && paths.includes('httpResponses.200'),
    'the traffic filled the records',
  );
  assert.ok(paths.length > 100, `${paths.length} leaves`);
  const where = whereEachLeafGoes(stats, render);
  assert.deepEqual(problems(where, Object.keys(EXCLUDED)), []);

  // The reasons hold, on the real numbers of the same moment.
  const now = parseExposition(s.server.metrics());
  const after = s.server.stats();
  for (const [name, { why, holds }] of Object.entries(EXCLUDED)) assert.ok(holds(after, now), `${name}: ${why}`);
  assert.ok(
    after.handshakesRefused > 0 && after.httpRequests > 0 && after.protocolErrors > 0,
    'the sums were checked on something',
  );

  // What the path serves and server.metrics() are that renderer's families, in its order.
  const rendered = [...parseExposition(render(stats)).keys()];
  assert.deepEqual([...scraped.keys()], rendered);
  assert.deepEqual([...now.keys()], rendered);
});

test('the coverage check fails on a leaf that reaches nothing, a stale exclusion, and a leaf in two series', async (t) => {
  // The check must be able to fail: feed it renderers that are wrong on purpose.
  const s = await start('handle', echo);
  t.after(() => s.server.close({ timeoutMs: 500 }));
  const stats = s.server.stats();
  const withoutDeflate = (x: StatsSnapshot): string => render({ ...x, deflate: { ...x.deflate, bytesInflated: 0 } });
  const missing = problems(whereEachLeafGoes(stats, withoutDeflate), Object.keys(EXCLUDED));
  assert.deepEqual(missing, ['deflate.bytesInflated never reaches /metrics']);

  const stale = problems(whereEachLeafGoes(stats, render), [...Object.keys(EXCLUDED), 'closed', 'noSuchLeaf']);
  assert.deepEqual(stale, [
    'closed is excluded but reaches lightws_connections_closed_total{}: drop it from the list',
    'noSuchLeaf is excluded but is no leaf of stats()',
  ]);

  const twice = (x: StatsSnapshot): string =>
    render(x) + '# TYPE lightws_copy gauge\n# HELP lightws_copy copy\n' + `lightws_copy ${x.bytesIn}\n`;
  assert.deepEqual(problems(whereEachLeafGoes(stats, twice), Object.keys(EXCLUDED)), [
    'bytesIn reaches 2 series: lightws_received_bytes_total{}, lightws_copy{}',
  ]);

  const metrics = parseExposition(render(stats));
  assert.equal(
    EXCLUDED.protocolErrors!.holds({ ...stats, protocolErrors: stats.protocolErrors + 1 }, metrics),
    false,
    'a reason that no longer holds is seen',
  );
});
