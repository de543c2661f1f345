import type { HandoverResult } from '../api/handover-options.js';
import { State } from '../reactor/connection/connection-state.js';
import type { Channel, HandoverMessage } from './channel.js';
import { ForwardBridge } from './forward-bridge.js';
import { SendWindow } from './send-window.js';
import type { Departure, HandoverEndpoint } from './endpoint.js';

/** How often connections not ready yet (a write in flight, an upgrade deciding) are looked at again. */
const RETRY_MS = 5;
/**
 * Connections sent and not yet acknowledged, at most, on Node's own channel.
 * It passes one handle at a time (each waits for the receiver's internal
 * ACK), so taking more at once only makes them wait, unread, in its queue: a
 * connection's stall is then about this many round trips instead of its
 * place in the whole line. A pipe of our own (pipe-channel.ts) has many in
 * flight and says how many at most; within that, send-window.ts follows the
 * new process's pace.
 */
const WINDOW = 64;

/**
 * Passes every open connection of `endpoint` to the process at the other end
 * of `channel`, each with its handle as soon as it is ready, until none is
 * left to wait for or `deadlineMs` passes; then refuses (1012) the open ones
 * still waiting. Connections that are closing, or plain HTTP, end here.
 *
 * Our copy of a descriptor is closed only once the other side acknowledges
 * it: if that process dies first, every connection not acknowledged carries
 * on here (`kept`), so a failed handover never leaves a connection without
 * an owner.
 */
export async function sendConnections(
  endpoint: HandoverEndpoint,
  channel: Channel,
  deadlineMs: number,
): Promise<HandoverResult> {
  const started = Date.now();
  const deadline = started + deadlineMs;
  const result: HandoverResult = { moved: 0, refused: 0, kept: 0, durationMs: 0 };
  const pending = new Map<number, Departure>();
  const window = new SendWindow(channel.window ?? WINDOW);
  let nextId = 1;
  let failure: string | undefined;
  let settled: (() => void) | undefined;
  /** Woken at each acknowledgement (and on failure): the window has room again. */
  let roomy: (() => void) | undefined;

  const onMessage = (message: HandoverMessage): void => {
    if (message?.lightws !== 'handover-ack') return;
    window.acknowledged(message.ids.length);
    for (const id of message.ids) {
      const departure = pending.get(id);
      if (departure === undefined) continue;
      pending.delete(id);
      endpoint.moved(departure);
      result.moved++;
    }
    roomy?.();
    if (pending.size === 0) settled?.();
  };
  const fail = (why: string): void => {
    if (failure !== undefined) return;
    failure = why;
    for (const departure of pending.values()) endpoint.keep(departure);
    result.kept += pending.size;
    pending.clear();
    roomy?.();
    settled?.();
  };
  const onGone = (): void => fail('the new process exited or closed the channel during the handover');
  channel.on('message', onMessage);
  channel.on('disconnect', onGone);
  channel.on('exit', onGone);
  // Publishes made here meanwhile follow the subscribers that left, unless a bridge of the server's own carries them.
  const forward = new ForwardBridge(channel);
  let forwarding = true;
  try {
    endpoint.reactor.attachBridge(forward);
  } catch {
    forwarding = false;
  }
  try {
    for (;;) {
      let waiting = 0;
      for (const conn of endpoint.connections()) {
        while (pending.size >= window.size && failure === undefined)
          await new Promise<void>((resolve) => (roomy = resolve));
        if (failure !== undefined) break;
        if (conn.index < 0) continue; // it ended while we waited
        const readiness = endpoint.readiness(conn);
        if (readiness === 'unmovable') {
          endpoint.refuse(conn);
          result.refused++;
        } else if (readiness === 'wait') {
          waiting++;
        } else if (readiness === 'ready') {
          const departure = endpoint.take(conn);
          if (departure === 'wait') waiting++;
          if (departure === 'wait' || departure === 'refused') {
            if (departure === 'refused') result.refused++;
            continue;
          }
          const id = nextId++;
          pending.set(id, departure);
          const message: HandoverMessage = { lightws: 'handover-conn', id, wire: departure.wire };
          try {
            channel.send(message, departure.handle, (error) => {
              if (error !== null) fail(`sending a connection failed: ${error.message}`);
            });
          } catch (error) {
            fail(`sending a connection failed: ${(error as Error).message}`);
          }
        }
      }
      if (failure !== undefined || waiting === 0) break;
      if (Date.now() >= deadline) {
        // Out of time: the open ones still waiting close properly instead.
        for (const conn of endpoint.connections()) {
          // Not open yet (an upgrade deciding): it ends here, as any other. Still 'ready' here: a paused
          // socket with bytes read and not handled, which cannot leave without them.
          if ((conn.flags & State.Open) === 0) continue;
          const readiness = endpoint.readiness(conn);
          if (readiness !== 'wait' && readiness !== 'ready') continue;
          endpoint.refuse(conn);
          result.refused++;
        }
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    if (pending.size > 0 && failure === undefined) {
      // Acknowledgements come one by one (Node passes one handle at a time): only a new process
      // that acknowledges nothing for as long as the deadline is stuck, and then keeps what is left.
      let acked = result.moved;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        settled = resolve;
        timer = setInterval(() => {
          if (result.moved === acked) fail('the new process stopped acknowledging connections');
          acked = result.moved;
        }, deadlineMs);
      });
      clearInterval(timer);
    }
  } finally {
    if (forwarding) endpoint.reactor.detachBridge(forward);
    channel.off('message', onMessage);
    channel.off('disconnect', onGone);
    channel.off('exit', onGone);
  }
  result.durationMs = Date.now() - started;
  if (failure !== undefined) result.error = failure;
  return result;
}
