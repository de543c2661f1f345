/**
 * The IPC protocol between bench/echo.ts or bench/handshake.ts and their load processes
 * (load/echo-clients.ts, load/handshake-clients.ts): connect → start → mark → report → stop, every
 * command answered by a report of the same name. The orchestrator side is an IpcChild
 * (lib/children.ts) of these types; latencies travel as lib/histogram.ts histograms.
 */
import { toParent } from '../lib/ipc.js';

/** Orchestrator → load process. */
export type LoadCommand =
  | { type: 'connect' }
  | { type: 'start' }
  /** Start of the measured window: counters and histogram reset. */
  | { type: 'mark' }
  /** End of the measured window: what happened since `mark`. */
  | { type: 'report' }
  /** Stop sending/connecting, drain, close everything; the process then exits. */
  | { type: 'stop' };

export interface WindowReport {
  type: 'report';
  /** Wall time since `mark`. */
  ms: number;
  /** Operations completed in the window: echoes received, or upgrades done. */
  count: number;
  /** Latency histogram of those operations (lib/histogram.ts). */
  hist: number[];
  /** This load process's CPU in the window, µs. */
  cpuUser: number;
  cpuSystem: number;
  /** Kind-specific counters (sent, skipped, failed, ...). */
  extra: Record<string, number>;
}

/** Load process → orchestrator. */
export type LoadReport =
  | { type: 'ready' }
  | { type: 'connected'; open: number; failed: number; ms: number; errors: Record<string, number> }
  | { type: 'started' }
  | { type: 'marked' }
  | WindowReport
  | { type: 'stopped'; extra: Record<string, number>; errors: Record<string, number> };

/** A report to the orchestrator, handed to the channel before the promise resolves. */
export const report = (r: LoadReport): Promise<void> => toParent(r);

/** Counts an error by its code (EADDRINUSE, ECONNREFUSED, ...) or message. */
export function countError(errors: Record<string, number>, error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const key = typeof e?.code === 'string' ? e.code : String(e?.message ?? error).slice(0, 80);
  errors[key] = (errors[key] ?? 0) + 1;
  return key;
}
