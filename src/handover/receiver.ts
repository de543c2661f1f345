import type { ConnectionRecord } from '../reactor/connection/connection-record.js';
import type { Channel, HandoverMessage } from './channel.js';
import type { HandoverEndpoint } from './endpoint.js';
import { deliverForwarded } from './forward-bridge.js';

/** Connections acknowledged together at most, and how long one waits for others to join its acknowledgement. */
const ACK_BATCH = 16;
const ACK_MS = 2;

/**
 * The new process's side: each connection that arrives is adopted (attached,
 * restored, the `adopted` hook called, reading started) and acknowledged, so
 * the old process can close its copy of the descriptor. Returns the listener,
 * to take off the channel when the handover is done. `relay`: a cluster
 * relay's own handling of forwarded publishes, told of each adoption
 * (cluster-bridge.ts); without it they are published here.
 */
export function receiveConnections(
  endpoint: HandoverEndpoint,
  channel: Channel,
  relay?: { adopted(conn: ConnectionRecord): void; forwarded(message: HandoverMessage): void },
): (message: HandoverMessage, handle: unknown) => void {
  // One acknowledgement for the connections of ACK_MS, or ACK_BATCH of them, not one each: an
  // acknowledgement costs both processes a write, a read and a wake-up, and the old one only needs to
  // know which it may close. Not one per turn of the event loop either: a read of our pipe stops at each
  // descriptor (pipe-channel.ts), so a turn adopts one connection, and acknowledging per turn was one
  // acknowledgement per connection (a quarter of the handover's CPU in both processes).
  let acks: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const ids = acks;
    acks = [];
    if (ids.length > 0 && channel.connected) channel.send({ lightws: 'handover-ack', ids });
  };
  const onMessage = (message: HandoverMessage, handle: unknown): void => {
    if (message?.lightws === 'handover-publish')
      return relay === undefined ? deliverForwarded(endpoint, message) : relay.forwarded(message);
    if (message?.lightws !== 'handover-conn') return;
    try {
      if (handle == null) throw new Error('a connection arrived without its handle');
      const conn = endpoint.adopt(handle, message.wire);
      relay?.adopted(conn);
    } catch (error) {
      endpoint.reactor.reporter.report(error, undefined);
      (handle as { close?: () => void } | null)?.close?.();
    }
    // Acknowledged either way: the old process must not keep a connection this one has (or has closed).
    if (acks.push(message.id) >= ACK_BATCH) flush();
    else timer ??= setTimeout(flush, ACK_MS);
  };
  channel.on('message', onMessage);
  return onMessage;
}
