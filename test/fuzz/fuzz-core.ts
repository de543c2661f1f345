/**
 * The fuzz harness shared by the CI test (fuzz.test.ts) and the long run
 * (long-run.ts): a seeded generator of handshakes and frame streams (valid,
 * mutated, random), a reference model of what the server must answer, a
 * client that delivers each case over loopback in its own chunking, and a
 * driver that runs many cases at once against an echo server in a child
 * process (fuzz-server.ts), checking the pool and the process between rounds.
 *
 * Every case is a pure function of (seed, profile, case index): a failure is
 * replayed alone with `long-run.js --seed S --profile P --case K`.
 *
 * The oracle is a second, deliberately plain implementation of the receiving
 * side of RFC 6455 (`model`), written without the server's code: it decodes
 * the bytes the client sends and predicts every reply (echoes, pongs) and how
 * the connection must end: the echo of the client's Close, the close code(s)
 * of the first violation, or "incomplete" (the server waits: idle timeout,
 * 1001). Where the RFC leaves the choice open (a frame that breaks several
 * rules at once) the model accepts the code of any of them.
 *
 * This file only re-exports the pieces: limits.ts, rng.ts, pools.ts,
 * encode.ts, streams.ts, handshakes.ts, cases.ts (the generator), model.ts
 * and oracle.ts (the oracle), client.ts (one connection), server-process.ts
 * (the child), driver.ts and summary.ts (the run and its report).
 */

export { HTTP_REFUSALS, LIMITS, SERVER_OPTIONS, type Limits } from './limits.js';
export { caseSeed, Rng } from './rng.js';
export { makePools, type Pools } from './pools.js';
export { encodeFrame } from './encode.js';
export type { Profile } from './streams.js';
export { generateCase, type Case, type Delivery, type Ending } from './cases.js';
export { headEnd, model, utf8Scan, validCloseCode, type ModelEnd, type ModelResult, type Reply } from './model.js';
export { runCase, type Observed } from './client.js';
export { describeEnd, expectationOf, judge, type Expectation } from './oracle.js';
export { FuzzServer, type ServerError, type ServerStats } from './server-process.js';
export { replayCommand, runFuzz, type FuzzOptions, type Progress } from './driver.js';
export { formatSummary, type Checkpoint, type Failure, type FuzzSummary } from './summary.js';
