import type { ConnectionRecord } from '../reactor/connection/connection-record.js';
import type { Channel, HandoverMessage } from './channel.js';
import type { HandoverEndpoint } from './endpoint.js';
import { deliverForwarded } from './forward-bridge.js';

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
  // One acknowledgement per turn of the event loop for all the connections that came in it: each IPC
  // message costs both processes a wake-up, and the old one only needs to know which it may close.
  let acks: number[] = [];
  const flush = (): void => {
    const ids = acks;
    acks = [];
    if (channel.connected) channel.send({ lightws: 'handover-ack', ids });
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
    if (acks.push(message.id) === 1) setImmediate(flush);
  };
  channel.on('message', onMessage);
  return onMessage;
}
