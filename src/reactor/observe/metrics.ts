import { formatFamily, type MetricType, type Sample } from '../../protocol/prometheus-text.js';
import type { StatsSnapshot } from '../../api/stats-snapshot.js';

/** One server's stats and the labels that tell it apart (a cluster's `worker`); `{}` for a lone server. */
export interface MetricsSource {
  readonly labels: Readonly<Record<string, string>>;
  readonly stats: StatsSnapshot;
}

type Family = readonly [
  name: string,
  type: MetricType,
  help: string,
  samples: (stats: StatsSnapshot) => readonly LabelledValue[],
];
type LabelledValue = readonly [labels: Readonly<Record<string, string>> | undefined, value: number];

const one = (value: number): readonly LabelledValue[] => [[undefined, value]];
const by = (label: string, record: Readonly<Record<string, number>>): readonly LabelledValue[] =>
  Object.entries(record).map(([key, value]) => [{ [label]: key }, value]);

/**
 * Every metric, from `server.stats()`: names in Prometheus's conventions
 * (`lightws_` prefix, base units, `_total` for counters), one family per
 * line here, in the order they are written. Every number in the snapshot is
 * here, or excluded by name with its reason, in
 * test/reactor/observe/metrics-coverage.test.ts.
 */
const FAMILIES: readonly Family[] = [
  [
    'lightws_connections',
    'gauge',
    'Connections held now: open WebSockets, TCP connections in their upgrade (or first request), and keep-alive plain HTTP connections.',
    (s) => [
      [{ state: 'open' }, s.connections],
      [{ state: 'handshaking' }, s.handshaking],
      [{ state: 'http' }, s.http],
    ],
  ],
  [
    'lightws_transport_connections',
    'gauge',
    'Open WebSockets by what carries them: handle (raw libuv TCP handles) or socket (net/tls).',
    (s) => by('transport', s.transports),
  ],
  [
    'lightws_connections_backpressured',
    'gauge',
    'Open connections whose reading is paused now because their send queue is high.',
    (s) => one(s.backpressured),
  ],
  [
    'lightws_connections_reading',
    'gauge',
    'Connections with a partial frame or message in a pooled buffer now.',
    (s) => one(s.readingNow),
  ],
  [
    'lightws_connections_writing',
    'gauge',
    'Connections with a write the kernel has not finished taking.',
    (s) => one(s.writingNow),
  ],
  [
    'lightws_buffered_bytes',
    'gauge',
    'Bytes accepted by send and not yet taken by the kernel, over all connections.',
    (s) => one(s.bufferedBytes),
  ],
  ['lightws_topics', 'gauge', 'Topics with at least one subscriber here.', (s) => one(s.topics)],
  [
    'lightws_pool_lent_bytes',
    'gauge',
    'Pooled buffer bytes lent out now (partial frames, messages being assembled, queued writes).',
    (s) => one(s.pool.lentBytes),
  ],
  [
    'lightws_pool_peak_lent_bytes',
    'gauge',
    'The most pooled bytes lent out at once since start (summed over workers in a cluster).',
    (s) => one(s.pool.peakLentBytes),
  ],
  ['lightws_pool_retained_bytes', 'gauge', 'Pooled bytes kept for reuse.', (s) => one(s.pool.retainedBytes)],
  ['lightws_pool_lent_buffers', 'gauge', 'Pooled buffers lent out now.', (s) => one(s.pool.lentBuffers)],
  ['lightws_pool_retained_buffers', 'gauge', 'Pooled buffers kept for reuse.', (s) => one(s.pool.retainedBuffers)],
  [
    'lightws_deflate_connections',
    'gauge',
    'Open WebSockets that negotiated permessage-deflate.',
    (s) => one(s.deflate.connections),
  ],
  [
    'lightws_deflate_sessions',
    'gauge',
    'Of those, connections holding zlib contexts of their own (deflate window mode).',
    (s) => one(s.deflate.sessions),
  ],
  [
    'lightws_deflate_contexts',
    'gauge',
    'zlib contexts alive now, the shared ones included.',
    (s) => one(s.deflate.contexts),
  ],
  [
    'lightws_deflate_reserved_bytes',
    'gauge',
    "Bytes reserved by connections' own zlib contexts, against maxDeflateBytes.",
    (s) => one(s.deflate.reservedBytes),
  ],
  [
    'lightws_deflate_max_bytes',
    'gauge',
    "The budget for connections' own zlib contexts (maxDeflateBytes).",
    (s) => one(s.deflate.maxBytes),
  ],
  [
    'lightws_deflate_shared_bytes',
    'gauge',
    'Estimated bytes of the zlib contexts every connection shares.',
    (s) => one(s.deflate.sharedBytes),
  ],
  ['lightws_connections_accepted_total', 'counter', 'TCP connections accepted.', (s) => one(s.accepted)],
  [
    'lightws_connections_closed_total',
    'counter',
    'TCP connections ended: open WebSockets, upgrades and plain HTTP connections alike.',
    (s) => one(s.closed),
  ],
  [
    'lightws_connections_refused_total',
    'counter',
    'TCP connections answered 503 before anything was read (maxConnections or the memory budget).',
    (s) => one(s.connectionsRefused),
  ],
  [
    'lightws_upgrades_total',
    'counter',
    'Upgrade requests answered, by status: 101 accepted, anything else refused.',
    (s) => [[{ status: '101' }, s.opened], ...by('status', s.handshakeRefusals)],
  ],
  [
    'lightws_http_requests_total',
    'counter',
    'Plain HTTP requests answered on the WebSocket port, by status.',
    (s) => by('status', s.httpResponses),
  ],
  ['lightws_received_messages_total', 'counter', 'WebSocket messages received.', (s) => one(s.messagesIn)],
  [
    'lightws_sent_messages_total',
    'counter',
    'WebSocket messages sent (a broadcast counts once per receiver).',
    (s) => one(s.messagesOut),
  ],
  [
    'lightws_sent_frames_total',
    'counter',
    'WebSocket frames written (control frames included).',
    (s) => one(s.framesOut),
  ],
  [
    'lightws_received_bytes_total',
    'counter',
    'Bytes read from every connection (HTTP heads and bodies included).',
    (s) => one(s.bytesIn),
  ],
  [
    'lightws_sent_bytes_total',
    'counter',
    'Bytes the kernel took for every connection (HTTP responses included).',
    (s) => one(s.bytesOut),
  ],
  [
    'lightws_closes_total',
    'counter',
    'Ends of open WebSockets by close code (1006: no Close frame); 3000-3999, 4000-4999 and other are buckets.',
    (s) => by('code', s.closeCodes),
  ],
  [
    'lightws_protocol_errors_total',
    'counter',
    'Connections failed for breaking RFC 6455, by rule.',
    (s) => by('kind', s.protocolErrorKinds),
  ],
  [
    'lightws_timeouts_total',
    'counter',
    'Connections ended by a deadline, by kind.',
    (s) => [
      [{ kind: 'handshake' }, s.handshakeTimeouts],
      [{ kind: 'idle' }, s.idleTimeouts],
      [{ kind: 'slow_message' }, s.slowMessagesClosed],
      [{ kind: 'close' }, s.closeTimeouts],
      [{ kind: 'http' }, s.httpTimeouts],
    ],
  ],
  [
    'lightws_handler_errors_total',
    'counter',
    'Handlers that threw (each closed its connection with 1011).',
    (s) => one(s.handlerErrors),
  ],
  ['lightws_pings_sent_total', 'counter', 'Heartbeat pings sent (pingIntervalMs).', (s) => one(s.pingsSent)],
  [
    'lightws_read_pauses_total',
    'counter',
    'Times reading a connection paused because its send queue was high.',
    (s) => one(s.readPauses),
  ],
  [
    'lightws_sends_dropped_total',
    'counter',
    "Sends refused by maxBufferedBytes with backpressure 'drop'.",
    (s) => one(s.sendsDropped),
  ],
  [
    'lightws_slow_consumers_closed_total',
    'counter',
    "Connections closed (1008) by maxBufferedBytes with backpressure 'close'.",
    (s) => one(s.slowConsumersClosed),
  ],
  ['lightws_memory_refusals_total', 'counter', 'Buffers the memory budget refused.', (s) => one(s.memoryRefusals)],
  [
    'lightws_memory_shed_total',
    'counter',
    'Connections dropped to get memory back under the budget.',
    (s) => one(s.memoryShed),
  ],
  ['lightws_pool_borrows_total', 'counter', 'Buffers borrowed from the pool.', (s) => one(s.pool.borrows)],
  ['lightws_pool_releases_total', 'counter', 'Buffers given back to the pool.', (s) => one(s.pool.releases)],
  [
    'lightws_pool_misses_total',
    'counter',
    'Borrows that had to allocate (oversize ones included).',
    (s) => one(s.pool.misses),
  ],
  [
    'lightws_pool_oversize_total',
    'counter',
    'Borrows larger than the largest size class, allocated exactly.',
    (s) => one(s.pool.oversize),
  ],
  ['lightws_pool_refusals_total', 'counter', "Borrows the pool's byte budget refused.", (s) => one(s.pool.refusals)],
  [
    'lightws_pool_foreign_releases_total',
    'counter',
    'Releases ignored because the buffer cannot have come from the pool.',
    (s) => one(s.pool.foreignReleases),
  ],
  [
    'lightws_deflate_declined_total',
    'counter',
    'Connections accepted without permessage-deflate because its memory budget was full.',
    (s) => one(s.deflate.declinedForBudget),
  ],
  [
    'lightws_deflate_compressed_messages_total',
    'counter',
    'Messages compressed for sending (a broadcast through the shared compressor counts once, not per receiver).',
    (s) => one(s.deflate.messagesCompressed),
  ],
  [
    'lightws_deflate_compressed_input_bytes_total',
    'counter',
    'Bytes of the messages sent compressed, before compression.',
    (s) => one(s.deflate.bytesBeforeCompression),
  ],
  [
    'lightws_deflate_compressed_output_bytes_total',
    'counter',
    'Bytes of the same messages after compression.',
    (s) => one(s.deflate.bytesAfterCompression),
  ],
  [
    'lightws_deflate_inflated_messages_total',
    'counter',
    'Compressed messages received and inflated.',
    (s) => one(s.deflate.messagesInflated),
  ],
  [
    'lightws_deflate_inflated_bytes_total',
    'counter',
    'Bytes the received compressed messages inflated to.',
    (s) => one(s.deflate.bytesInflated),
  ],
  [
    'lightws_tls_compact_connections',
    'gauge',
    'TLS connections on the compact record layer now.',
    (s) => one(s.tls.compactNow),
  ],
  [
    'lightws_tls_compacted_total',
    'counter',
    'TLS connections moved from node:tls to the compact record layer (tls.compact).',
    (s) => one(s.tls.compacted),
  ],
  [
    'lightws_tls_stayed_total',
    'counter',
    'TLS connections that stayed on node:tls for good, by reason (protocol: not TLS 1.3; notIdle: never idle).',
    (s) => by('reason', s.tls.stayed),
  ],
  [
    'lightws_remote_connected',
    'gauge',
    'Topic bridge: 1 while it reaches the other servers (a cluster sums its workers).',
    (s) => one(s.remote.connected),
  ],
  [
    'lightws_remote_channels',
    'gauge',
    'Topic bridge: topics received from the other servers now.',
    (s) => one(s.remote.channels),
  ],
  [
    'lightws_remote_buffered_messages',
    'gauge',
    'Topic bridge: publishes waiting for the other servers.',
    (s) => one(s.remote.buffered),
  ],
  [
    'lightws_remote_buffered_bytes',
    'gauge',
    'Topic bridge: bytes of the publishes waiting.',
    (s) => one(s.remote.bufferedBytes),
  ],
  [
    'lightws_remote_sent_messages_total',
    'counter',
    'Topic bridge: publishes carried to the other servers.',
    (s) => one(s.remote.sent),
  ],
  [
    'lightws_remote_sent_bytes_total',
    'counter',
    'Topic bridge: payload bytes carried to the other servers.',
    (s) => one(s.remote.sentBytes),
  ],
  [
    'lightws_remote_received_messages_total',
    'counter',
    'Topic bridge: publishes from other servers delivered here.',
    (s) => one(s.remote.received),
  ],
  [
    'lightws_remote_received_bytes_total',
    'counter',
    'Topic bridge: payload bytes from other servers delivered here.',
    (s) => one(s.remote.receivedBytes),
  ],
  [
    'lightws_remote_dropped_messages_total',
    'counter',
    'Topic bridge: publishes not carried (over the buffer bound, or refused).',
    (s) => one(s.remote.dropped),
  ],
  [
    'lightws_remote_dropped_bytes_total',
    'counter',
    'Topic bridge: payload bytes not carried.',
    (s) => one(s.remote.droppedBytes),
  ],
  [
    'lightws_remote_malformed_total',
    'counter',
    'Topic bridge: messages from the other side that were not ours to read.',
    (s) => one(s.remote.malformed),
  ],
  [
    'lightws_remote_errors_total',
    'counter',
    'Topic bridge: errors its connections reported (handled).',
    (s) => one(s.remote.errors),
  ],
];

/**
 * The Prometheus text (format 0.0.4) of one or more servers: each family
 * once, with a sample per source (a cluster's workers and their sum, told
 * apart by the `worker` label). The whole text is built per scrape, from
 * counters the reactor keeps anyway: nothing is recorded per message for it.
 */
export function renderMetrics(sources: readonly MetricsSource[]): string {
  let out = '';
  for (const [name, type, help, samplesOf] of FAMILIES) {
    const samples: Sample[] = [];
    for (const source of sources) {
      for (const [labels, value] of samplesOf(source.stats))
        samples.push({ labels: { ...source.labels, ...labels }, value });
    }
    out += formatFamily(name, type, help, samples);
  }
  return out;
}
