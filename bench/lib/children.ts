/**
 * The orchestrators' child processes, in two kinds:
 * - IpcChild: a forked script (load generators, instrumented servers) that talks over Node's IPC
 *   channel in typed messages `{ type, ... }`;
 * - JsonLinesChild: a spawned server that reads command lines on stdin and answers in JSON lines
 *   on stdout (servers/protocol.ts, servers/million-cluster.ts).
 * Replies are awaited by type (or in order, for JSON lines), always with a deadline, and a child
 * that exits fails whoever was waiting on it instead of leaving them to time out.
 *
 * Every child started here is SIGKILLed when this process exits, whichever way it goes out: the
 * end of main, process.exit(), an uncaught exception or unhandled rejection (Node still emits
 * 'exit' then), or SIGINT/SIGTERM/SIGHUP (turned into an exit below; by default they would kill
 * the process without an 'exit' event). A load process holding 19k sockets or a server left
 * behind would skew every later run on this shared machine. The one way out no handler sees,
 * SIGKILL of this process, is covered on the children's side: forked children exit when their
 * IPC channel closes (lib/ipc.ts exitWithParent), servers when their stdin ends.
 */
import { type ChildProcess, fork, type Serializable, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const live = new Set<ChildProcess>();
/** Processes we did not start but must not outlive us (a cluster's workers). */
const adopted = new Set<number>();
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
/** Signals that do not end this process (see waitOutSigint). */
const waitedOut = new Set<string>();
let guarded = false;

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Installs the exit and signal handlers (once). Called by the first child started; call it
 * earlier when something must be undone even if a signal comes before any child exists.
 */
export function killChildrenOnExit(): void {
  if (guarded) return;
  guarded = true;
  process.on('exit', () => {
    for (const proc of live) proc.kill('SIGKILL');
    for (const pid of adopted) kill(pid);
  });
  for (const [signal, number] of Object.entries(SIGNALS)) {
    process.on(signal, () => {
      if (waitedOut.has(signal)) return;
      process.stderr.write(`\n${signal}: stopping, and killing the child processes\n`);
      process.exit(128 + number);
    });
  }
}

/** Kills `pid` too when this process exits (a grandchild, e.g. a cluster worker). */
export function killOnExit(pid: number): void {
  killChildrenOnExit();
  adopted.add(pid);
}

/**
 * `pid` (given to killOnExit) is known to have exited: it is not killed at our exit, when its
 * number may be another process's (pid_max can be as low as 32768).
 */
export function forgetPid(pid: number): void {
  adopted.delete(pid);
}

/**
 * Ctrl+C does not end this process: for an orchestrator whose children get the same SIGINT (the
 * terminal sends it to the whole process group) and finish their work on it (a profiler writing
 * its report), which this process then waits for. Exiting still kills them.
 */
export function waitOutSigint(): void {
  killChildrenOnExit();
  waitedOut.add('SIGINT');
}

/** Kills `proc` too when this process exits: for a child spawned directly (a profiler, whose output is text). */
export function track<P extends ChildProcess>(proc: P): P {
  killChildrenOnExit();
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

/**
 * Runs another benchmark script as a child of this Node (`node [nodeArgs] script argv`), its own
 * orchestration and processes; its output passes through, and is also appended to `log` if given.
 * Resolves with its exit code (null if a signal ended it).
 */
export async function runScript(
  script: string,
  argv: readonly string[],
  nodeArgs: readonly string[] = [],
  log?: { write(chunk: Buffer): unknown },
): Promise<number | null> {
  const out = log === undefined ? 'inherit' : 'pipe';
  const proc = track(spawn(process.execPath, [...nodeArgs, script, ...argv], { stdio: ['ignore', out, out] }));
  if (log !== undefined) {
    proc.stdout!.on('data', (chunk: Buffer) => (process.stdout.write(chunk), log.write(chunk)));
    proc.stderr!.on('data', (chunk: Buffer) => (process.stderr.write(chunk), log.write(chunk)));
  }
  return new Promise((resolve) => proc.once('close', (code) => resolve(code)));
}

interface Waiter<M> {
  match: (m: M) => boolean;
  resolve: (m: M) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Messages not yet asked for, and askers not yet answered. */
class Mailbox<M> {
  private readonly queue: M[] = [];
  private readonly waiters: Waiter<M>[] = [];
  private closed: Error | null = null;

  put(message: M): void {
    const i = this.waiters.findIndex((w) => w.match(message));
    if (i < 0) {
      this.queue.push(message);
      return;
    }
    const [w] = this.waiters.splice(i, 1);
    clearTimeout(w!.timer);
    w!.resolve(message);
  }

  take(match: (m: M) => boolean, timeoutMs: number, what: string): Promise<M> {
    const i = this.queue.findIndex(match);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    if (this.closed !== null) return Promise.reject(new Error(`${this.closed.message} before ${what}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter<M> = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`no ${what} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** No more messages will come: fail every waiter now, and every later take that finds nothing. */
  close(error: Error): void {
    this.closed = error;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${error.message} while waiting`));
    }
  }
}

abstract class Child<Out> {
  protected readonly mailbox = new Mailbox<Out>();
  private readonly taps: { match: (m: Out) => boolean; fn: (m: Out) => void }[] = [];

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    track(proc);
    // 'close', not 'exit': it comes after the last message and stdout line have been delivered.
    proc.once('close', (code, signal) => this.mailbox.close(new Error(`${name} exited (${signal ?? code})`)));
    proc.once('error', (error) => this.mailbox.close(new Error(`${name}: ${error.message}`)));
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** Messages that `match` go to `fn` as they come instead of waiting to be asked for (progress reports). */
  tap(match: (m: Out) => boolean, fn: (m: Out) => void): void {
    this.taps.push({ match, fn });
  }

  protected deliver(message: Out): void {
    const tap = this.taps.find((t) => t.match(message));
    if (tap !== undefined) tap.fn(message);
    else this.mailbox.put(message);
  }

  /** Waits up to timeoutMs for the child to exit by itself, then SIGKILLs it; resolves once it is gone. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await gone;
    clearTimeout(timer);
  }
}

export interface IpcChildOptions {
  /** Node flags for the child (default none: the orchestrator's own flags are not passed on). */
  execArgv?: readonly string[];
  /** The child's stdout (default inherited; stderr always is). */
  stdout?: 'inherit' | 'ignore';
  /** The runtime that runs the script (default this Node; bench:idle runs its `bun` kind with Bun). */
  execPath?: string;
}

/** A forked script talking in `{ type }` messages over IPC. */
export class IpcChild<Cmd, Rep extends { type: string }> extends Child<Rep> {
  constructor(name: string, script: string, argv: readonly string[] = [], options: IpcChildOptions = {}) {
    super(
      name,
      fork(script, [...argv], {
        execArgv: [...(options.execArgv ?? [])],
        ...(options.execPath === undefined ? {} : { execPath: options.execPath }),
        stdio: ['ignore', options.stdout ?? 'inherit', 'inherit', 'ipc'],
      }),
    );
    this.proc.on('message', (message) => this.deliver(message as Rep));
  }

  send(cmd: Cmd): void {
    if (this.proc.connected) this.proc.send(cmd as Serializable);
  }

  /** The next report of this type (one that came earlier and was not taken counts). */
  next<T extends Rep['type']>(type: T, timeoutMs: number): Promise<Extract<Rep, { type: T }>> {
    return this.mailbox.take((r) => r.type === type, timeoutMs, `'${type}' from ${this.name}`) as Promise<
      Extract<Rep, { type: T }>
    >;
  }

  /** Sends `cmd` (unless null) and waits for the report of type `type`. */
  ask<T extends Rep['type']>(cmd: Cmd | null, type: T, timeoutMs: number): Promise<Extract<Rep, { type: T }>> {
    if (cmd !== null) this.send(cmd);
    return this.next(type, timeoutMs);
  }

  /** Every report of this type goes to `fn` as it comes (never to next/ask). */
  onEach<T extends Rep['type']>(type: T, fn: (r: Extract<Rep, { type: T }>) => void): void {
    this.tap(
      (r) => r.type === type,
      (r) => fn(r as Extract<Rep, { type: T }>),
    );
  }
}

/** A spawned `node [nodeArgs] script argv` that reads command lines on stdin and writes JSON lines on stdout. */
export class JsonLinesChild<Out = Record<string, unknown>> extends Child<Out> {
  /** `runtime`: the program that runs `script` (this Node by default; bench:chat runs Bun's servers and clients with `bun`). */
  constructor(
    name: string,
    script: string,
    argv: readonly string[] = [],
    nodeArgs: readonly string[] = [],
    runtime: string = process.execPath,
  ) {
    super(name, spawn(runtime, [...nodeArgs, script, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] }));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let message: Out;
      try {
        message = JSON.parse(line) as Out;
      } catch {
        process.stderr.write(`${name}: ${line}\n`); // not ours: a library's notice on stdout
        return;
      }
      this.deliver(message);
    });
  }

  write(line: string): void {
    if (!this.exited && this.proc.stdin?.writable) this.proc.stdin.write(`${line}\n`);
  }

  /** Ends stdin, after a last line if given (the servers stop on either). */
  endInput(line?: string): void {
    if (!this.exited && this.proc.stdin?.writable) this.proc.stdin.end(line === undefined ? undefined : `${line}\n`);
  }

  /** The next line, in order. */
  next(timeoutMs: number): Promise<Out> {
    return this.mailbox.take(() => true, timeoutMs, `a line from ${this.name}`);
  }

  /** The next line that `match`es (lines before it that do not match wait for their own askers). */
  nextWhere(match: (m: Out) => boolean, timeoutMs: number, what: string): Promise<Out> {
    return this.mailbox.take(match, timeoutMs, `${what} from ${this.name}`);
  }
}
