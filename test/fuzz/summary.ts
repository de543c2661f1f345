/** What a fuzz run found, and its printable form. */
import type { ServerError, ServerStats } from './server-process.js';
import type { Profile } from './streams.js';

export interface Failure {
  index: number;
  problems: string[];
  replay: string;
  detail: Record<string, unknown>;
}

export interface Checkpoint {
  afterCases: number;
  afterFrames: number;
  connections: number;
  handshaking: number;
  lentBuffers: number;
  lentBytes: number;
  accepted: number;
  closed: number;
}

export interface FuzzSummary {
  seed: number;
  transport: string;
  profile: Profile;
  cases: number;
  /** Frames that reached the server's frame parser (valid and invalid). */
  frames: number;
  /** Frames the generator wrote (including those after a violation, which the server ignores). */
  framesGenerated: number;
  bytesSent: number;
  closeCodes: Record<string, number>;
  httpStatuses: Record<string, number>;
  endings: Record<string, number>;
  bodyKinds: Record<string, number>;
  failures: Failure[];
  failureCount: number;
  /** Every problem, numbers blanked out, counted: the shape of the failures at a glance. */
  problemKinds: Record<string, number>;
  crashed: { code: number | null; signal: string | null; stderr: string } | null;
  serverErrors: ServerError[];
  checkpoints: Checkpoint[];
  finalStats: ServerStats | null;
  alive: boolean;
  durationMs: number;
  slowestCaseMs: number;
  /** The client's worst event-loop stall: timing failures (1001 instead of a code, no 101) near it may be the client's. */
  maxClientLagMs: number;
}

/** A compact, printable summary. */
export function formatSummary(s: FuzzSummary): string {
  const sorted = (h: Record<string, number>): string =>
    Object.entries(h)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const last = s.finalStats;
  const lines = [
    `lightws fuzz — seed ${s.seed}, transport ${s.transport}, profile ${s.profile}`,
    `  duration           ${(s.durationMs / 1000).toFixed(1)} s (slowest connection ${(s.slowestCaseMs / 1000).toFixed(1)} s, worst client event-loop lag ${s.maxClientLagMs} ms)`,
    `  frames             ${s.frames.toLocaleString('en-US')} parsed by the server (${s.framesGenerated.toLocaleString('en-US')} generated), ${Math.round(s.frames / (s.durationMs / 1000)).toLocaleString('en-US')} frames/s`,
    `  bytes sent         ${(s.bytesSent / 1048576).toFixed(1)} MiB`,
    `  connections        ${s.cases.toLocaleString('en-US')} (bodies: ${sorted(s.bodyKinds)}; client endings: ${sorted(s.endings)})`,
    `  HTTP statuses      ${sorted(s.httpStatuses)}`,
    `  close codes        ${sorted(s.closeCodes)}`,
    `  crashes            ${s.crashed === null ? 0 : `1 (code ${s.crashed.code}, signal ${s.crashed.signal})`}; server process alive at the end: ${s.alive}`,
    `  server errors      ${s.serverErrors.length}`,
    `  pool checkpoints   ${s.checkpoints.length}, lentBuffers at each: ${s.checkpoints.map((c) => c.lentBuffers).join(',') || '-'}`,
    `  final server state ${last === null ? '-' : `connections ${last.connections}, handshaking ${last.handshaking}, pool.lentBuffers ${last.pool.lentBuffers}, pool.lentBytes ${last.pool.lentBytes}, peakLentBytes ${last.pool.peakLentBytes}, accepted ${last.accepted}, closed ${last.closed}, opened ${last.opened}, handshakesRefused ${last.handshakesRefused}, protocolErrors ${last.protocolErrors}`}`,
    `  failures           ${s.failureCount}${s.failureCount === 0 ? '' : ` — ${sorted(s.problemKinds)}`}`,
  ];
  for (const f of s.failures) {
    lines.push(`  ✗ case ${f.index}: ${f.problems.join('; ')}`);
    if (f.index >= 0) lines.push(`      replay: ${f.replay}`);
    lines.push(`      ${JSON.stringify(f.detail)}`);
  }
  return lines.join('\n');
}
