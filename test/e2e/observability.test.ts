import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';
import { createServer, DIAGNOSTICS_CHANNELS, type LogLevel } from '../../src/index.js';
import { HttpRawClient } from '../support/http-client.js';
import { parseExposition, seriesKey, type ParsedFamily } from '../support/prometheus-parser.js';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until } from '../support/servers.js';

/**
 * Every family /metrics serves, in order, with its type: a family renamed, dropped or added
 * shows here (test/reactor/observe/metrics-coverage.test.ts checks each stats() number has one).
 */
const FAMILIES: readonly (readonly [string, 'counter' | 'gauge'])[] = [
  ['lightws_connections', 'gauge'],
  ['lightws_transport_connections', 'gauge'],
  ['lightws_connections_backpressured', 'gauge'],
  ['lightws_connections_reading', 'gauge'],
  ['lightws_connections_writing', 'gauge'],
  ['lightws_buffered_bytes', 'gauge'],
  ['lightws_topics', 'gauge'],
  ['lightws_pool_lent_bytes', 'gauge'],
  ['lightws_pool_peak_lent_bytes', 'gauge'],
  ['lightws_pool_retained_bytes', 'gauge'],
  ['lightws_pool_lent_buffers', 'gauge'],
  ['lightws_pool_retained_buffers', 'gauge'],
  ['lightws_deflate_connections', 'gauge'],
  ['lightws_deflate_sessions', 'gauge'],
  ['lightws_deflate_contexts', 'gauge'],
  ['lightws_deflate_reserved_bytes', 'gauge'],
  ['lightws_deflate_max_bytes', 'gauge'],
  ['lightws_deflate_shared_bytes', 'gauge'],
  ['lightws_connections_accepted_total', 'counter'],
  ['lightws_connections_closed_total', 'counter'],
  ['lightws_connections_refused_total', 'counter'],
  ['lightws_upgrades_total', 'counter'],
  ['lightws_http_requests_total', 'counter'],
  ['lightws_received_messages_total', 'counter'],
  ['lightws_sent_messages_total', 'counter'],
  ['lightws_sent_frames_total', 'counter'],
  ['lightws_received_bytes_total', 'counter'],
  ['lightws_sent_bytes_total', 'counter'],
  ['lightws_closes_total', 'counter'],
  ['lightws_protocol_errors_total', 'counter'],
  ['lightws_timeouts_total', 'counter'],
  ['lightws_handler_errors_total', 'counter'],
  ['lightws_pings_sent_total', 'counter'],
  ['lightws_read_pauses_total', 'counter'],
  ['lightws_sends_dropped_total', 'counter'],
  ['lightws_slow_consumers_closed_total', 'counter'],
  ['lightws_memory_refusals_total', 'counter'],
  ['lightws_memory_shed_total', 'counter'],
  ['lightws_pool_borrows_total', 'counter'],
  ['lightws_pool_releases_total', 'counter'],
  ['lightws_pool_misses_total', 'counter'],
  ['lightws_pool_oversize_total', 'counter'],
  ['lightws_pool_refusals_total', 'counter'],
  ['lightws_pool_foreign_releases_total', 'counter'],
  ['lightws_deflate_declined_total', 'counter'],
  ['lightws_deflate_compressed_messages_total', 'counter'],
  ['lightws_deflate_compressed_input_bytes_total', 'counter'],
  ['lightws_deflate_compressed_output_bytes_total', 'counter'],
  ['lightws_deflate_inflated_messages_total', 'counter'],
  ['lightws_deflate_inflated_bytes_total', 'counter'],
  ['lightws_tls_compact_connections', 'gauge'],
  ['lightws_tls_compacted_total', 'counter'],
  ['lightws_tls_stayed_total', 'counter'],
  ['lightws_remote_connected', 'gauge'],
  ['lightws_remote_channels', 'gauge'],
  ['lightws_remote_buffered_messages', 'gauge'],
  ['lightws_remote_buffered_bytes', 'gauge'],
  ['lightws_remote_sent_messages_total', 'counter'],
  ['lightws_remote_sent_bytes_total', 'counter'],
  ['lightws_remote_received_messages_total', 'counter'],
  ['lightws_remote_received_bytes_total', 'counter'],
  ['lightws_remote_dropped_messages_total', 'counter'],
  ['lightws_remote_dropped_bytes_total', 'counter'],
  ['lightws_remote_malformed_total', 'counter'],
  ['lightws_remote_errors_total', 'counter'],
];

/** Traffic that touches most counters: messages, a refused upgrade, a protocol error, closes by code, a plain request. */
async function traffic(port: number): Promise<void> {
  const talker = await RawClient.open(port);
  talker.send(1, 'hello');
  await talker.frameCount(1);
  talker.send(8, Buffer.from([0x0f, 0xa1])); // Close 4001
  await talker.endOfStream();
  const foreign = await RawClient.connect(port);
  foreign.write(foreign.request().replace(/\r\n\r\n$/, '\r\nOrigin: https://elsewhere.example\r\n\r\n'));
  await foreign.until(() => foreign.response !== '', 'the 403');
  foreign.destroy();
  const broken = await RawClient.open(port);
  broken.send(1, Buffer.from([0xff]));
  await broken.closeCode();
  broken.destroy();
}

async function scrape(port: number): Promise<Map<string, ParsedFamily>> {
  const client = await HttpRawClient.connect(port);
  client.send('GET', '/metrics', { Connection: 'close' });
  const response = await client.next();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  await client.closed();
  return parseExposition(response.body.toString());
}

function value(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

for (const transport of TRANSPORTS) {
  describe(`observability over ${transport}`, () => {
    test('/metrics parses strictly, declares every family before its samples, and its counters only grow', async (t) => {
      const s = await start(transport, { ...echo, metricsPath: '/metrics' });
      t.after(() => s.server.close({ timeoutMs: 500 }));
      await traffic(s.port);
      const first = await scrape(s.port);
      await traffic(s.port);
      const second = await scrape(s.port);
      assert.deepEqual(
        [...first.values()].map((f) => [f.name, f.type]),
        FAMILIES,
      );
      assert.deepEqual(
        [...second.values()].map((f) => [f.name, f.type]),
        FAMILIES,
      );
      for (const family of second.values()) {
        assert.ok(family.type === 'counter' || family.type === 'gauge', `${family.name} is typed`);
        assert.ok(family.help !== undefined && family.help.length > 0, `${family.name} has HELP`);
        if (family.type === 'counter') assert.match(family.name, /_total$/, 'counters end in _total');
      }
      const later = new Map(
        [...second.values()].flatMap((f) => f.samples.map((sample) => [seriesKey(sample), sample.value] as const)),
      );
      for (const family of first.values()) {
        if (family.type !== 'counter') continue;
        for (const sample of family.samples) {
          const after = later.get(seriesKey(sample));
          assert.ok(
            after !== undefined && after >= sample.value,
            `${seriesKey(sample)}: ${sample.value} then ${after}`,
          );
        }
      }
      assert.equal(value(second, 'lightws_upgrades_total', { status: '403' }), 2);
      assert.equal(value(second, 'lightws_upgrades_total', { status: '101' }), 4);
      assert.equal(value(second, 'lightws_closes_total', { code: '4000-4999' }), 2);
      assert.equal(value(second, 'lightws_closes_total', { code: '1007' }), 2);
      assert.equal(value(second, 'lightws_protocol_errors_total', { kind: 'InvalidUtf8' }), 2);
      assert.equal(value(second, 'lightws_http_requests_total', { status: '200' }), 1, 'the first scrape');
      assert.equal(value(second, 'lightws_received_messages_total'), 2);
      assert.equal(value(second, 'lightws_connections', { state: 'http' }), 1, 'the scrape itself');
      // Every peer answered or went away in time: no deadline ended anything.
      assert.deepEqual(
        second.get('lightws_timeouts_total')!.samples.map((sample) => [sample.labels.kind, sample.value]),
        [
          ['handshake', 0],
          ['idle', 0],
          ['slow_message', 0],
          ['close', 0],
          ['http', 0],
        ],
      );
      assert.deepEqual(
        second.get('lightws_transport_connections')!.samples.map((sample) => sample.labels.transport),
        ['handle', 'socket'],
      );
      assert.equal(
        value(second, 'lightws_connections_accepted_total'),
        8,
        'three TCP connections per traffic(), twice, and both scrapes',
      );
      // server.metrics() is the same text, for an HTTP server of your own.
      assert.deepEqual(
        [...parseExposition(s.server.metrics()).values()].map((f) => [f.name, f.type]),
        FAMILIES,
      );
    });

    test('diagnostics_channel: open, close, refused, protocol error and request events, with what they are about', async (t) => {
      const events: [string, Record<string, unknown>][] = [];
      const subscribers = Object.values(DIAGNOSTICS_CHANNELS).map((name) => {
        const fn = (message: unknown): void => void events.push([name, message as Record<string, unknown>]);
        diagnostics_channel.subscribe(name, fn);
        return () => diagnostics_channel.unsubscribe(name, fn);
      });
      try {
        const s = await start(transport, { ...echo, healthPath: '/healthz' });
        t.after(() => s.server.close({ timeoutMs: 500 }));
        await traffic(s.port);
        const health = await HttpRawClient.connect(s.port);
        health.send('GET', '/healthz');
        await health.next();
        health.destroy();
        await until(
          () => events.filter(([name]) => name === DIAGNOSTICS_CHANNELS.close).length === 2,
          3000,
          'both closes',
        );
        const of = (name: string) => events.filter(([n]) => n === name).map(([, m]) => m);
        assert.equal(of(DIAGNOSTICS_CHANNELS.open).length, 2);
        assert.equal(of(DIAGNOSTICS_CHANNELS.open)[0]!.role, 'server');
        assert.deepEqual(
          of(DIAGNOSTICS_CHANNELS.close)
            .map((m) => m.code)
            .sort(),
          [1007, 4001],
        );
        assert.match(String(of(DIAGNOSTICS_CHANNELS.close)[0]!.remoteAddress), /^127\.0\.0\.1:\d+$/);
        const [refused] = of(DIAGNOSTICS_CHANNELS.refused);
        assert.equal(refused!.status, 403);
        assert.equal(refused!.origin, 'https://elsewhere.example');
        assert.equal(refused!.url, '/');
        const [error] = of(DIAGNOSTICS_CHANNELS.protocolError);
        assert.equal(error!.code, 1007);
        assert.equal((error!.error as Error).name, 'InvalidUtf8');
        assert.deepEqual(
          of(DIAGNOSTICS_CHANNELS.request).map((m) => [m.method, m.url, m.status]),
          [['GET', '/healthz', 200]],
        );
      } finally {
        for (const unsubscribe of subscribers) unsubscribe();
      }
    });

    test('logging: at info each refused upgrade (status, reason, origin, address); at debug each open and close too', async (t) => {
      const lines: Record<LogLevel, string[]> = { silent: [], error: [], warn: [], info: [], debug: [] };
      for (const level of ['info', 'debug'] as const) {
        const s = await start(transport, {
          ...echo,
          logLevel: level,
          logger: (_at, message) => void lines[level].push(message),
        });
        t.after(() => s.server.close({ timeoutMs: 500 }));
        await traffic(s.port);
        await until(() => s.server.connections === 0, 3000, 'every connection gone');
      }
      const refusal = lines.info.find((line) => line.startsWith('refused'));
      assert.match(
        refusal ?? '',
        /^refused upgrade to \/ from 127\.0\.0\.1:\d+ \(Origin: https:\/\/elsewhere\.example\): 403 origin not allowed$/,
      );
      assert.equal(
        lines.info.some((line) => line.startsWith('open ') || line.startsWith('closed ')),
        false,
        'opens and closes are debug',
      );
      assert.equal(lines.debug.filter((line) => /^open \/ from 127\.0\.0\.1:\d+$/.test(line)).length, 2);
      assert.ok(
        lines.debug.some((line) => /^closed 127\.0\.0\.1:\d+: 4001 ""$/.test(line)),
        lines.debug.join('\n'),
      );
      assert.ok(
        lines.debug.some((line) => /^closed 127\.0\.0\.1:\d+: 1007 "text message is not valid UTF-8"$/.test(line)),
      );
    });

    test('a port in use: the error names the address', async (t) => {
      const first = createServer({ transport, logLevel: 'silent' });
      t.after(() => first.close());
      const { port } = await first.listen(0, '127.0.0.1');
      await assert.rejects(
        createServer({ transport, logLevel: 'silent' }).listen(port, '127.0.0.1'),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'EADDRINUSE');
          assert.equal(error.message, `listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
          return true;
        },
      );
    });
  });
}
