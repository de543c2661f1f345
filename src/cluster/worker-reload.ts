import { EventEmitter } from 'node:events';
import type { Channel, HandoverMessage } from '../handover/channel.js';
import type { HandoverEndpoint } from '../handover/endpoint.js';
import { receiveConnections } from '../handover/receiver.js';
import type { HandoverResult } from '../api/handover-options.js';

/** Primary ↔ worker messages of a reload (cluster/reload.ts), beside the handover's own (handover/channel.ts). */
export type ReloadMessage =
  /** Primary → old worker: your successor listens; pass it every connection (through me) within timeoutMs. */
  | { lightws: 'reload-handover'; timeoutMs: number }
  /** Primary → old worker: the successor died; keep what you have (a 'listen' follows). */
  | { lightws: 'reload-failed' }
  /** Old worker → primary: done, with what happened; this worker ends once what stayed has closed. */
  | { lightws: 'reload-done'; result: HandoverResult };

/**
 * A worker's part in `primary.reload()`. Every worker adopts the connections
 * that reach it (it may be a successor); an old worker, told to, stops
 * accepting and passes its connections to the primary, which forwards each to
 * the successor. The channel to the primary counts as gone for the handover
 * (every unacknowledged connection kept) when the primary says the successor died.
 */
export function serveReload(endpoint: HandoverEndpoint, close: () => Promise<unknown>): void {
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
  receiveConnections(endpoint, channel);
  process.on('message', (message: ReloadMessage | HandoverMessage) => {
    if (message?.lightws === 'reload-failed') {
      failed.emit('disconnect');
    } else if (message?.lightws === 'reload-handover') {
      endpoint.stopAccepting();
      // The sending side is loaded on a reload only: a worker that is never reloaded never runs it.
      void import('../handover/sender.js')
        .then(({ sendConnections }) => sendConnections(endpoint, channel, message.timeoutMs))
        .then(async (result) => {
          process.send!({ lightws: 'reload-done', result } satisfies ReloadMessage);
          if (result.error !== undefined) return; // kept: the primary gives this worker its socket again
          await close();
          process.exit(0);
        });
    }
  });
}
