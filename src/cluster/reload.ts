import type { ChildProcess } from 'node:child_process';
import type { HandoverMessage } from '../handover/channel.js';
import type { HandoverResult, ReloadResult } from '../api/handover-options.js';
import type { ReloadMessage } from './worker-reload.js';

/** The primary's parts a reload uses (cluster.ts's Primary). */
export interface ReloadHost {
  readonly workers: (ChildProcess | undefined)[];
  /** Workers on their way out: their exit is no crash, and their topics are their successor's now. */
  readonly retiring: Set<ChildProcess>;
  /** Slots being reloaded: a worker of theirs that exits is not restarted (the reload decides). */
  readonly reloading: Set<number>;
  /** The topic relay: while a slot reloads, its relays go through the old worker (reload-relay.ts). */
  readonly relay?: {
    reloadBegins(index: number, old: ChildProcess): void;
    reloaded(index: number, forwarded?: number): void;
  };
  /**
   * Starts the worker for slot `index` (put in `workers` at once) and resolves once it listens; `pipe`:
   * a handover pipe's end to give it (handover/pipe-pair.ts), closed here once it has its copy.
   */
  spawn(index: number, pipe?: unknown): Promise<void>;
  /** Gives a worker its listening socket again (the same as at its start), resolving once it listens. */
  relisten(index: number): Promise<void>;
}

/**
 * Each worker replaced by a fresh process running the code on disk now,
 * `concurrency` slots at a time: the successor listens first, then the old
 * worker stops accepting and passes every connection (down a pipe of their
 * own, or forwarded here), each acknowledgement back. If the successor fails
 * to start, the old worker stays as it was; if it dies halfway, the old
 * worker keeps what it had not handed over and listens again. Either way the
 * other slots go on.
 */
export async function reloadWorkers(host: ReloadHost, timeoutMs: number, concurrency: number): Promise<ReloadResult> {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`reload concurrency must be a whole number from 1, not ${concurrency}`);
  const started = Date.now();
  // A few slots at a time, not all: a slot's handover is CPU work on both its processes (each connection
  // taken, sent, adopted and read again), so slots beyond the cores only queue for them, and every
  // connection in flight waits as long as its successor's turn on a core (the stall). On a machine busy
  // with other work, more at once win a larger share of it (docs/benchmarks.md): `concurrency` says.
  const results: HandoverResult[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < host.workers.length) {
      const index = next++;
      host.reloading.add(index);
      try {
        results[index] = await reloadSlot(host, index, timeoutMs);
      } finally {
        host.reloading.delete(index);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, host.workers.length) }, lane));
  const total = (key: 'moved' | 'refused' | 'kept'): number => results.reduce((n, r) => n + r[key], 0);
  return {
    workers: results,
    moved: total('moved'),
    refused: total('refused'),
    kept: total('kept'),
    durationMs: Date.now() - started,
  };
}

async function reloadSlot(host: ReloadHost, index: number, timeoutMs: number): Promise<HandoverResult> {
  const old = host.workers[index];
  const failedEarly = (error: string): HandoverResult => ({ moved: 0, refused: 0, kept: 0, durationMs: 0, error });
  if (old === undefined || !old.connected) {
    // Nothing to hand over (it is restarting): a fresh one on its own is the reload.
    if (old === undefined) await host.spawn(index).catch(() => {});
    return failedEarly('no live worker in this slot');
  }
  host.retiring.add(old);
  let viaPipe = false;
  try {
    const pipe = await pipeFrom(old, timeoutMs);
    viaPipe = pipe !== undefined;
    // From before the successor exists: it never has a subscriber the old worker's forwarding does not reach.
    host.relay?.reloadBegins(index, old);
    await host.spawn(index, pipe);
  } catch (error) {
    host.relay?.reloaded(index);
    // It stops forwarding publishes (and closes its pipe): it keeps its slot.
    if (old.connected) old.send({ lightws: 'reload-failed' } satisfies ReloadMessage);
    const fresh = host.workers[index];
    if (fresh !== undefined && fresh !== old) {
      host.retiring.add(fresh);
      fresh.kill();
    }
    host.workers[index] = old;
    host.retiring.delete(old);
    return failedEarly(`the new worker did not start: ${(error as Error).message}`);
  }
  const fresh = host.workers[index]!;
  return new Promise<HandoverResult>((resolve) => {
    const fromOld = (message: HandoverMessage | ReloadMessage, handle: unknown): void => {
      if (message?.lightws === 'handover-conn') {
        // Forwarded as it came; our copy of the descriptor closes once it is on its way to the new worker.
        const close = (): void => (handle as { close?: () => void } | null)?.close?.();
        // (send's return value says nothing here: a handle waits its turn, and false only means queued.)
        try {
          if (fresh.connected) fresh.send(message, handle as never, close);
          else close();
        } catch {
          close();
        }
      } else if (message?.lightws === 'handover-publish') {
        if (fresh.connected) fresh.send(message);
      } else if (message?.lightws === 'reload-done') {
        done();
        if (message.result.error === undefined) {
          // The successor's now: the relays the old worker did not forward first, then the new ones.
          host.relay?.reloaded(index, message.relayed ?? 0);
          return resolve(message.result);
        }
        host.relay?.reloaded(index);
        // The old worker kept what it had: it is this slot's worker again, and the new one (stuck, or gone) goes.
        host.retiring.add(fresh);
        fresh.kill('SIGKILL');
        host.retiring.delete(old);
        host.workers[index] = old;
        void host.relisten(index).then(
          () => resolve(message.result),
          () => resolve(message.result),
        );
      }
    };
    const fromFresh = (message: HandoverMessage): void => {
      if (message?.lightws === 'handover-ack' && old.connected) old.send(message);
    };
    const freshGone = (): void => {
      if (old.connected) old.send({ lightws: 'reload-failed' } satisfies ReloadMessage);
    };
    // On the channel's end, not the process's: `exit` can come before the last messages it wrote (its
    // `reload-done` among them) are read, and would count a finished handover as a failed one.
    const oldGone = (): void => {
      done();
      // What it forwarded is unknown: the successor is sent the new relays only.
      host.relay?.reloaded(index);
      resolve({ moved: 0, refused: 0, kept: 0, durationMs: 0, error: 'the old worker exited during the handover' });
    };
    const done = (): void => {
      old.off('message', fromOld).off('disconnect', oldGone);
      fresh.off('message', fromFresh).off('exit', freshGone);
    };
    old.on('message', fromOld).on('disconnect', oldGone);
    fresh.on('message', fromFresh).on('exit', freshGone);
    old.send({ lightws: 'reload-handover', timeoutMs, viaPipe } satisfies ReloadMessage);
  });
}

/**
 * Asks the old worker for its end of a pipe to its successor: the connections then go straight
 * between the two, many at once. Undefined when it has none (or is gone, or does not answer in time):
 * they go through us instead.
 */
function pipeFrom(old: ChildProcess, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve) => {
    const done = (handle: unknown): void => {
      clearTimeout(timer);
      old.off('message', onMessage).off('exit', onExit);
      resolve(handle ?? undefined);
    };
    const onMessage = (message: ReloadMessage, handle: unknown): void => {
      if (message?.lightws === 'reload-pipe') done(handle);
    };
    const onExit = (): void => done(undefined);
    // Too late: the reload goes through us; a pipe end that comes after all is closed, not leaked.
    const onLate = (message: ReloadMessage, handle: unknown): void => {
      if (message?.lightws !== 'reload-pipe') return;
      old.off('message', onLate);
      (handle as { close?: () => void } | null)?.close?.();
    };
    // The slot's whole deadline, not a few seconds: a worker starved of CPU (a million connections'
    // heartbeats on two cores) takes seconds to make a pipe, and the way through us is the slower one.
    const timer = setTimeout(() => {
      done(undefined);
      old.on('message', onLate);
    }, timeoutMs);
    old.on('message', onMessage).on('exit', onExit);
    old.send({ lightws: 'reload-pipe' } satisfies ReloadMessage);
  });
}
