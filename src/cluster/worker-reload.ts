import { EventEmitter } from 'node:events';
import type { Channel, HandoverMessage } from '../handover/channel.js';
import type { HandoverEndpoint } from '../handover/endpoint.js';
import type { PipeChannel } from '../handover/pipe-channel.js';
import { makePipePair, openInheritedChannel } from '../handover/pipe-pair.js';
import { receiveConnections } from '../handover/receiver.js';
import type { HandoverResult } from '../api/handover-options.js';
import type { ClusterTopicBridge } from './cluster-bridge.js';
import { keeping } from '../reactor/write/writer-events.js';

/** Primary ↔ worker messages of a reload (cluster/reload.ts), beside the handover's own (handover/channel.ts). */
export type ReloadMessage =
  /**
   * Primary → old worker: make a pipe for your successor; old worker → primary: its end, with the
   * message (none when it could not: the connections then go through the primary).
   */
  | { lightws: 'reload-pipe' }
  /**
   * Primary → old worker: your successor listens; pass it every connection within timeoutMs, down the pipe
   * (`viaPipe`: the successor has its other end), or through me.
   */
  | { lightws: 'reload-handover'; timeoutMs: number; viaPipe?: boolean }
  /** Primary → old worker: the successor died; keep what you have (a 'listen' follows). */
  | { lightws: 'reload-failed' }
  /**
   * Old worker → primary: done, with what happened; this worker ends once what stayed has closed. `relayed`:
   * the primary's number of the last relayed publish it forwarded to its successor (reload-relay.ts).
   */
  | { lightws: 'reload-done'; result: HandoverResult; relayed?: number };

/**
 * A worker's part in `primary.reload()`. Every worker adopts the connections
 * that reach it (it may be a successor); an old worker, told to, makes a pipe
 * whose other end the primary gives the successor at its start
 * (handover/pipe-pair.ts), then stops accepting and passes its connections
 * down it, many in flight at once. Without a pipe they go to the primary,
 * which forwards each to the successor, one at a time. Either counts as gone
 * for the handover (every unacknowledged connection kept) when the primary
 * says the successor died, or the pipe closes.
 *
 * With the cluster's topic relay (`bridge`), the old worker forwards every
 * publish, relayed or its own, down the same way as the connections while
 * its slot reloads, and the successor delivers them (reload-relay.ts says
 * why, and what the primary does).
 */
export function serveReload(
  endpoint: HandoverEndpoint,
  close: () => Promise<unknown>,
  bridge: ClusterTopicBridge | null = null,
): void {
  const failed = new EventEmitter();
  type Listener = (...args: unknown[]) => void;
  const channel = {
    send: (message: HandoverMessage, handle?: unknown, callback?: (error: Error | null) => void) =>
      process.send!(message, handle as never, callback),
    on: (event: string, listener: Listener) =>
      event === 'message' ? process.on('message', listener) : failed.on(event, listener),
    off: (event: string, listener: Listener) =>
      event === 'message' ? process.off('message', listener) : failed.off(event, listener),
    get connected() {
      return process.connected;
    },
  } as Channel;
  const relay = bridge === null ? undefined : bridge;
  if (bridge !== null) {
    bridge.localFilter = (keep) => void (endpoint.reactor.localOnly = keep);
    bridge.deliverSome = (topic, data, isBinary, keep) => {
      const { reactor } = endpoint;
      const receivers = topic === null ? reactor.ctx.registry : reactor.topics.get(topic);
      // Framed once for all of them, as any publish.
      if (receivers !== undefined) reactor.writeToAll(keeping(receivers, keep), data, isBinary);
    };
  }
  receiveConnections(endpoint, channel, relay);
  // A successor: its predecessor's pipe, when the primary passed one on at our start.
  const inherited = openInheritedChannel();
  if (inherited !== null) {
    receiveConnections(endpoint, inherited, relay);
    if (bridge !== null) {
      // The primary's relays to us come after what the old worker forwarded down the pipe: they wait for its end.
      bridge.hold();
      const ended = (message?: HandoverMessage): void => {
        if (message !== undefined && message?.lightws !== 'handover-done') return;
        inherited.off('message', ended);
        inherited.off('disconnect', ended);
        bridge.release();
      };
      inherited.on('message', ended);
      inherited.on('disconnect', ended);
    }
  }
  /** An old worker: our end of the pipe to the successor, made when the primary asked. */
  let pipe: PipeChannel | null = null;
  process.on('message', (message: ReloadMessage | HandoverMessage) => {
    if (message?.lightws === 'reload-pipe') {
      pipe?.close();
      pipe = null;
      void makePipePair()
        .catch(() => null)
        .then((pair) => {
          if (pair === null) {
            bridge?.forwardTo(channel); // the primary passes them on to the successor
            process.send!({ lightws: 'reload-pipe' } satisfies ReloadMessage);
            return;
          }
          pipe = pair.channel;
          bridge?.forwardTo(pipe);
          // Our copy of the other end closes once it is on its way to the primary.
          process.send!({ lightws: 'reload-pipe' } satisfies ReloadMessage, pair.give as never, () =>
            pair.give.close(),
          );
        });
    } else if (message?.lightws === 'reload-failed') {
      bridge?.forwardTo(null);
      failed.emit('disconnect');
      pipe?.close();
    } else if (message?.lightws === 'reload-handover') {
      endpoint.stopAccepting();
      // The pipe, if the successor has it still; else through the primary. The sending side is
      // loaded on a reload only: a worker that is never reloaded never runs it.
      // (A primary from before `viaPipe` does not say: the pipe then, if we have one.)
      const via = message.viaPipe !== false && pipe?.connected === true ? pipe : channel;
      if (via === channel && pipe !== null) {
        // A pipe the primary did not pass on (it gave up waiting for it): the publishes follow the connections
        // through the primary too. Those forwarded down the pipe before were for no connection of ours yet.
        bridge?.forwardTo(channel);
        pipe.close();
        pipe = null;
      }
      void import('../handover/sender.js')
        .then(({ sendConnections }) => sendConnections(endpoint, via, message.timeoutMs))
        .then(async (result) => {
          const ours = pipe;
          pipe = null;
          // Nothing forwarded after handover-done: the primary sends the successor the relays after this one.
          const relayed = bridge?.forwardTo(null);
          // Behind every connection and forwarded publish; the pipe closes once it is written.
          if (ours?.connected === true) ours.send({ lightws: 'handover-done' }, undefined, () => ours.close());
          else ours?.close();
          // Written before this process exits (process.exit drops an IPC write still queued).
          const reported = new Promise<void>((resolve) =>
            process.send!({ lightws: 'reload-done', result, relayed } satisfies ReloadMessage, undefined, {}, () =>
              resolve(),
            ),
          );
          if (result.error !== undefined) return; // kept: the primary gives this worker its socket again
          await reported;
          await close();
          process.exit(0);
        });
    }
  });
}
