import type { Connection } from './connection.js';

/**
 * How a server's connections move to another process (`server.handover()`,
 * a cluster's `reload()`; docs/guides/deploy-and-reload.md). Every open connection travels
 * with its descriptor, its protocol state, its topics and `conn.data`.
 */
export interface HandoverOptions<UserData = unknown> {
  /**
   * Turns `conn.data` into something the structured clone algorithm can copy
   * (no functions, sockets, class instances you need back as such). Default:
   * the data itself. A throw makes that connection close with 1012 instead.
   */
  serialize?(data: UserData, conn: Connection<UserData>): unknown;
  /** In the new process: `conn.data` again from what `serialize` returned. Default: the value itself. */
  restore?(value: unknown, conn: Connection<UserData>): UserData;
  /**
   * In the old process: `conn` has left for the new one (it is closed here,
   * and `close` is not called for it): release what you keep for it.
   */
  moved?(conn: Connection<UserData>): void;
  /**
   * In the new process, instead of `open` (which is not called again): `conn`
   * arrived open, with its data and topics; re-attach what you keep per
   * connection. Reading starts when this returns.
   */
  adopted?(conn: Connection<UserData>): void;
}

/** What a handover did with this process's connections. */
export interface HandoverResult {
  /** Passed to the new process, which acknowledged each. */
  moved: number;
  /** Closed with 1012 (Service Restart): state that cannot move (TLS, a deflate window), or not ready by the deadline. */
  refused: number;
  /** Kept here because the new process failed (died, or the channel closed) before taking them. */
  kept: number;
  /** Milliseconds from the first connection sent to the last acknowledged. */
  durationMs: number;
  /** `server.handover()`: the new process's id. */
  pid?: number | undefined;
  /** Set when the new process failed: what happened. */
  error?: string;
}

/** `server.handover()`'s options. */
export interface SuccessorOptions {
  /**
   * The new process must listen within this; a connection not ready to move
   * by then (a write the peer does not take) closes with 1012; and a new
   * process that acknowledges no connection for this long is deemed stuck
   * (it is killed; what it has not acknowledged stays here). Default 10000.
   */
  timeoutMs?: number;
  /** The script the new process runs. Default: this one's (process.argv[1]), as it is on disk now. */
  modulePath?: string;
  /** Its arguments. Default: this process's (process.argv.slice(2)). */
  args?: readonly string[];
  /** Its Node flags. Default: this process's (process.execArgv). */
  execArgv?: readonly string[];
  /** Its environment. Default: this process's. */
  env?: NodeJS.ProcessEnv;
}

/** How `primary.reload()` goes about it. */
export interface ReloadOptions {
  /** A slot's handover deadline (each slot its own), as HandoverOptions' `timeoutMs`. Default 10,000. */
  timeoutMs?: number;
  /**
   * Slots reloaded at once. Default: the cores (`os.availableParallelism()`). A handover is CPU work on
   * both its processes, so more slots than cores only queue for them, and the connections in flight
   * wait as long as their successor's turn. With many more workers than cores on a busy machine, more
   * at once win a larger share of it (docs/benchmarks.md, "Reload without a disconnect": at 1M on 53
   * workers and 2 cores, every slot at once took 161 s, 8 at a time 798 s).
   */
  concurrency?: number;
}

/** What `primary.reload()` did, per worker and in all. */
export interface ReloadResult {
  /** Each worker slot's handover, in order (a failed one has `error`). */
  workers: HandoverResult[];
  moved: number;
  refused: number;
  kept: number;
  durationMs: number;
}
