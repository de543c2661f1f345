import { fork, type ChildProcess } from 'node:child_process';
import type { HandoverResult, SuccessorOptions } from '../api/handover-options.js';
import type { ListenAddress } from '../transport/listen-address.js';
import type { Channel, HandoverMessage } from './channel.js';
import type { HandoverEndpoint } from './endpoint.js';
import { HANDOVER_FD, HANDOVER_FD_ENV, makePipePair, openInheritedChannel, stdioOf } from './pipe-pair.js';
import { receiveConnections } from './receiver.js';
import { sendConnections } from './sender.js';
import { HANDOVER_ENV } from './handover-env.js';

/**
 * The old process's side of a single-process handover (`server.handover()`):
 * starts the new process, gives it the listening sockets, then every
 * connection (sender.ts). If the new process fails before it listens, it is
 * killed and nothing changed; if it dies while connections move, those not
 * yet acknowledged stay here and this server listens again. On success the
 * channel is closed, and the new process runs on by itself; the caller ends
 * this one (`await server.close(); process.exit()`) once what stayed (closing
 * connections, the refused ones) is done.
 */
export async function handOverToSuccessor(
  endpoint: HandoverEndpoint,
  options: SuccessorOptions,
  listenAgain: () => Promise<void>,
): Promise<HandoverResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = Date.now();
  // Connections go down a pipe of our own when we can make one (many in flight); else down Node's channel.
  const pair = await makePipePair().catch(() => null);
  const given = pair === null ? null : stdioOf(pair.give);
  let child: ChildProcess;
  try {
    child = fork(options.modulePath ?? process.argv[1]!, [...(options.args ?? process.argv.slice(2))], {
      env: {
        ...(options.env ?? process.env),
        [HANDOVER_ENV]: '1',
        ...(pair === null ? {} : { [HANDOVER_FD_ENV]: String(HANDOVER_FD) }),
      },
      execArgv: [...(options.execArgv ?? process.execArgv)],
      stdio: given === null ? 'inherit' : ['inherit', 'inherit', 'inherit', 'ipc', given],
    });
  } catch (error) {
    pair?.channel.close();
    throw error;
  } finally {
    given?.destroy(); // the child has its copy
  }
  const control = child as unknown as Channel;
  const channel = pair?.channel ?? control;
  try {
    await reply(child, 'handover-ready', timeoutMs);
    const listeners = endpoint.listeners();
    listeners.forEach(({ handle, transport }, index) =>
      control.send({ lightws: 'handover-listener', transport, index, count: listeners.length }, handle),
    );
    if (listeners.length === 0)
      control.send({ lightws: 'handover-listener', transport: 'handle', index: -1, count: 0 });
    const listening = await reply(child, 'handover-listening', timeoutMs - (Date.now() - started));
    if (listening.lightws === 'handover-listening' && listening.error !== undefined)
      throw new Error(`the new process could not listen: ${listening.error}`);
  } catch (error) {
    child.kill();
    pair?.channel.close();
    throw error;
  }
  // Both serve the same listening sockets now: ours can go (the kernel's queue of new connections is shared).
  endpoint.stopAccepting();
  const result = await sendConnections(endpoint, channel, Math.max(1000, timeoutMs - (Date.now() - started)));
  if (result.error !== undefined) {
    // Its copies of the listening sockets must be gone before ours can be bound again.
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    pair?.channel.close();
    await listenAgain();
  } else {
    // Behind every connection and forwarded publish; the pipe closes once it is written.
    channel.send({ lightws: 'handover-done' }, undefined, () => pair?.channel.close());
    child.disconnect();
    child.unref();
  }
  return { ...result, pid: child.pid };
}

/** Resolves with the child's next message tagged `tag`; rejects if it exits first, or at the timeout. */
function reply(child: ChildProcess, tag: HandoverMessage['lightws'], timeoutMs: number): Promise<HandoverMessage> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
    };
    const onMessage = (message: HandoverMessage): void => {
      if (message?.lightws !== tag) return;
      done();
      resolve(message);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`the new process exited (code ${code}) before the handover`));
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    const timer = setTimeout(
      () => {
        done();
        reject(new Error(`the new process did not answer ${tag} within the handover's timeout`));
      },
      Math.max(1, timeoutMs),
    );
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
  });
}

/**
 * The new process's side (`listen` in a successor): asks for the listening
 * sockets, serves them, then adopts every connection that comes. Resolves
 * with the first listener's address (undefined when the old process had none).
 */
export function takeOver(endpoint: HandoverEndpoint): Promise<ListenAddress | undefined> {
  delete process.env[HANDOVER_ENV];
  const channel = process as unknown as Channel;
  // The connections come down the old process's pipe when it gave us one, else down Node's channel.
  const pipe = openInheritedChannel();
  const connections = pipe ?? channel;
  const receiving = receiveConnections(endpoint, connections);
  const onDone = (message: HandoverMessage): void => {
    if (message?.lightws !== 'handover-done') return;
    connections.off('message', onDone);
    connections.off('message', receiving);
    pipe?.close();
  };
  connections.on('message', onDone);
  return new Promise((resolve) => {
    const addresses: ListenAddress[] = [];
    let served = 0;
    const onMessage = (message: HandoverMessage, handle: unknown): void => {
      if (message?.lightws !== 'handover-listener') return;
      if (message.count === 0) {
        channel.off('message', onMessage);
        channel.send({ lightws: 'handover-listening' });
        resolve(undefined);
        return;
      }
      endpoint.serve(handle, message.transport).then(
        (address) => {
          addresses[message.index] = address;
          if (++served < message.count) return;
          channel.off('message', onMessage);
          channel.send({ lightws: 'handover-listening' });
          resolve(addresses[0]);
        },
        (error: Error) => channel.send({ lightws: 'handover-listening', error: error.message }),
      );
    };
    channel.on('message', onMessage);
    channel.send({ lightws: 'handover-ready' });
  });
}
