/**
 * The fuzz driver: runs many cases at once against a fresh server child,
 * judges each, and checks the pool and the process between rounds.
 */
import type { TransportName } from '../../src/index.js';
import { generateCase, type Case } from './cases.js';
import { runCase, type Observed } from './client.js';
import { describeEnd, expectationOf, judge, type Expectation } from './oracle.js';
import { makePools } from './pools.js';
import { FuzzServer, type ServerStats } from './server-process.js';
import type { Profile } from './streams.js';
import type { Checkpoint, FuzzSummary } from './summary.js';

export interface FuzzOptions {
  seed: number;
  transport: TransportName;
  profile: Profile;
  /** Stop after this many frames reached the server's parser... */
  frames?: number;
  /** ...or this many cases... */
  cases?: number;
  /** ...or this long; whichever comes first. */
  durationMs?: number;
  /** Connections at once. */
  concurrency: number;
  /** Check the pool (all connections closed) every this many frames. Default: only at the end. */
  checkpointFrames?: number;
  /** A hang: a connection still open this long after it started. */
  boundMs?: number;
  /** Run exactly these case indices, one at a time (replay). */
  only?: number[];
  progress?: (p: Progress) => void;
  progressEveryMs?: number;
  /** Keep at most this many failure details. */
  maxFailures?: number;
}

export interface Progress {
  cases: number;
  frames: number;
  bytes: number;
  failures: number;
  elapsedMs: number;
}

function bump(h: Record<string, number>, key: string): void {
  h[key] = (h[key] ?? 0) + 1;
}

export function replayCommand(o: Pick<FuzzOptions, 'seed' | 'profile' | 'transport'>, index: number): string {
  return `node dist/test/fuzz/long-run.js --seed ${o.seed} --profile ${o.profile} --transport ${o.transport} --case ${index}`;
}

function caseDetail(c: Case, e: Expectation, obs: Observed): Record<string, unknown> {
  return {
    head: {
      mutation: c.headMutation,
      bytes: c.head.length,
      firstLine: c.head.toString('latin1', 0, Math.min(80, Math.max(0, c.head.indexOf('\r\n')))),
    },
    body: { kind: c.bodyKind, bytes: c.body.length, framesGenerated: c.framesGenerated },
    delivery: c.delivery,
    waitFor101: c.waitFor101,
    ending: c.ending,
    resetAt: c.ending === 'reset' ? c.resetAt : undefined,
    echoClose: c.echoClose,
    expected: {
      status: c.expectStatus,
      headEnd: e.headEnd,
      end: describeEnd(e.full?.end),
      replies: e.full?.replies.length,
    },
    observed: {
      response: obs.responseLine,
      replies: obs.replies,
      closeCode: obs.closeCode,
      closeReason: obs.closeReason,
      mismatch: obs.mismatch,
      badFrame: obs.badFrame,
      timedOut: obs.timedOut,
      bytesWritten: obs.bytesWritten,
      ms: obs.ms,
    },
  };
}

/** Runs the fuzzer against a fresh server child and returns what happened. Never throws on a server failure. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const pools = makePools(o.seed);
  const server = await FuzzServer.start(o.transport);
  const boundMs = o.boundMs ?? 30000;
  const maxFailures = o.maxFailures ?? 50;
  const summary: FuzzSummary = {
    seed: o.seed,
    transport: o.transport,
    profile: o.profile,
    cases: 0,
    frames: 0,
    framesGenerated: 0,
    bytesSent: 0,
    closeCodes: {},
    httpStatuses: {},
    endings: {},
    bodyKinds: {},
    failures: [],
    failureCount: 0,
    problemKinds: {},
    crashed: null,
    serverErrors: server.errors,
    checkpoints: [],
    finalStats: null,
    alive: true,
    durationMs: 0,
    slowestCaseMs: 0,
    maxClientLagMs: 0,
  };
  let lastBeat = Date.now();
  const lagMonitor = setInterval(() => {
    const now = Date.now();
    summary.maxClientLagMs = Math.max(summary.maxClientLagMs, now - lastBeat - 100);
    lastBeat = now;
  }, 100);
  const fail = (index: number, problems: string[], detail: Record<string, unknown>): void => {
    summary.failureCount++;
    for (const p of problems)
      bump(
        summary.problemKinds,
        p
          .replace(/\(.*?\)/g, '')
          .replace(/\d+/g, 'N')
          .slice(0, 120),
      );
    if (summary.failures.length < maxFailures)
      summary.failures.push({ index, problems, replay: replayCommand(o, index), detail });
  };
  let crashed = false;
  // Upper bounds for the server's counters: a connection is refused or opened at most once.
  let mayBeRefused = 0;
  let mayBeOpened = 0;
  let appOpenReported = 0;
  let appErrorsReported = 0;
  void server.whenExited().then(() => {
    if (server.stopping) return;
    crashed = true;
    summary.crashed = { ...server.exited!, stderr: server.stderr };
  });

  const runOne = async (index: number): Promise<void> => {
    const c = generateCase(o.seed, index, pools, o.profile);
    const e = expectationOf(c);
    const obs = await runCase(server.port, c, e.full, boundMs);
    if (crashed) return;
    const { problems, frames } = judge(c, e, obs);
    summary.cases++;
    summary.frames += frames;
    summary.framesGenerated += c.framesGenerated;
    summary.bytesSent += obs.bytesWritten;
    summary.slowestCaseMs = Math.max(summary.slowestCaseMs, obs.ms);
    bump(summary.bodyKinds, c.bodyKind.replace(/:.*/, ''));
    bump(summary.endings, c.ending);
    if (obs.status === null || obs.status !== 101) mayBeRefused++;
    if (obs.status === null || obs.status === 101) mayBeOpened++;
    if (obs.status === null) bump(summary.httpStatuses, 'none');
    else bump(summary.httpStatuses, String(obs.status));
    if (obs.status === 101) {
      const code = obs.closeCode;
      bump(
        summary.closeCodes,
        code === null ? 'none (client ended first)' : code >= 3000 ? '3000-4999 (echoed)' : String(code),
      );
    }
    if (problems.length > 0) fail(index, problems, caseDetail(c, e, obs));
  };

  const checkpoint = async (caseIndex = -1): Promise<void> => {
    if (crashed) return;
    // Every client socket is closed; give the server a moment to see the last EOFs.
    let stats: ServerStats;
    const deadline = Date.now() + 15000;
    try {
      for (;;) {
        stats = await server.stats();
        if (
          (stats.connections === 0 && stats.handshaking === 0 && stats.pool.lentBuffers === 0) ||
          Date.now() > deadline
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } catch (error) {
      if (!crashed) fail(-1, [`stats: ${(error as Error).message}`], {});
      return;
    }
    const cp: Checkpoint = {
      afterCases: summary.cases,
      afterFrames: summary.frames,
      connections: stats.connections,
      handshaking: stats.handshaking,
      lentBuffers: stats.pool.lentBuffers,
      lentBytes: stats.pool.lentBytes,
      accepted: stats.accepted,
      closed: stats.closed,
    };
    summary.checkpoints.push(cp);
    summary.finalStats = stats;
    const problems: string[] = [];
    if (stats.connections !== 0 || stats.handshaking !== 0)
      problems.push(
        `server still holds ${stats.connections} open + ${stats.handshaking} handshaking connections after every client closed`,
      );
    if (stats.pool.lentBuffers !== 0)
      problems.push(
        `pool leak: ${stats.pool.lentBuffers} buffers (${stats.pool.lentBytes} B) still lent with no connection`,
      );
    if (stats.accepted !== stats.closed) problems.push(`accepted ${stats.accepted} but closed ${stats.closed}`);
    if (stats.handshakesRefused > mayBeRefused)
      problems.push(
        `handshakesRefused ${stats.handshakesRefused} but at most ${mayBeRefused} connections can have been refused: some were refused more than once`,
      );
    if (stats.opened > mayBeOpened)
      problems.push(`opened ${stats.opened} but at most ${mayBeOpened} connections got a 101 or no answer`);
    const app = stats.app;
    if (app !== undefined) {
      if (app.open > appOpenReported) {
        problems.push(
          `the open handler ran for ${app.open - appOpenReported} more connection(s) whose close handler never ran (the server holds none)`,
        );
        appOpenReported = app.open;
      }
      if (app.errorCount > appErrorsReported) {
        problems.push(
          `handler lifecycle broken ${app.errorCount - appErrorsReported} time(s): ${app.errors.join('; ')}`,
        );
        appErrorsReported = app.errorCount;
      }
    }
    if (problems.length > 0) fail(caseIndex, problems, { checkpoint: cp });
  };

  let lastProgress = Date.now();
  const report = (force = false): void => {
    if (o.progress === undefined) return;
    const now = Date.now();
    if (!force && now - lastProgress < (o.progressEveryMs ?? 5000)) return;
    lastProgress = now;
    o.progress({
      cases: summary.cases,
      frames: summary.frames,
      bytes: summary.bytesSent,
      failures: summary.failureCount,
      elapsedMs: now - started,
    });
  };

  try {
    if (o.only !== undefined) {
      for (const index of o.only) {
        await runOne(index);
        await checkpoint(index);
      }
    } else {
      let next = 0;
      const framesLimit = o.frames ?? Infinity;
      const casesLimit = o.cases ?? Infinity;
      const endAt = o.durationMs === undefined ? Infinity : started + o.durationMs;
      const more = (): boolean => !crashed && summary.frames < framesLimit && next < casesLimit && Date.now() < endAt;
      while (more()) {
        const roundEnd = o.checkpointFrames === undefined ? framesLimit : summary.frames + o.checkpointFrames;
        const lane = async (): Promise<void> => {
          while (more() && summary.frames < roundEnd) {
            await runOne(next++);
            report();
          }
        };
        await Promise.all(Array.from({ length: o.concurrency }, lane));
        await checkpoint();
        report(true);
      }
    }
  } finally {
    clearInterval(lagMonitor);
    summary.alive = server.alive && !crashed;
    await server.stop();
    summary.durationMs = Date.now() - started;
  }
  if (summary.crashed !== null)
    fail(-1, [`server process died: code ${summary.crashed.code}, signal ${summary.crashed.signal}`], {
      stderr: summary.crashed.stderr,
    });
  for (const error of server.errors) fail(-1, [`server reported an error: ${error.message}`], { stack: error.stack });
  return summary;
}
