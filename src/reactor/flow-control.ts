import { CloseCode } from '../protocol/close-code.js';
import { State } from './connection-state.js';
import type { Connection } from './connection.js';
import type { Reactor } from './reactor.js';
import { SendResult, type SendResultValue } from './writer.js';

/**
 * What happens when writing outpaces a peer, or pooled memory runs short:
 * the maxBufferedBytes policy, pausing reads of a congested connection, and
 * shedding under the global memory budget. The writer reports; this decides.
 */
export class FlowControl {
  constructor(
    private readonly reactor: Reactor,
    private readonly connections: readonly Connection[],
  ) {}

  /** A send would pass maxBufferedBytes: drop it, or close the slow consumer (1008). */
  overflow(conn: Connection): SendResultValue {
    const reactor = this.reactor;
    if (reactor.options.backpressure === 'drop') {
      reactor.stats.sendsDropped++;
      return SendResult.Dropped;
    }
    reactor.stats.slowConsumersClosed++;
    reactor.fail(conn, CloseCode.PolicyViolation, 'send buffer full');
    return SendResult.Dropped;
  }

  /** Its queue is high: stop reading this peer (it is not reading us) until the queue drains. */
  congested(conn: Connection): void {
    if ((conn.flags & (State.ReadBlocked | State.Closed)) !== 0) return;
    conn.flags |= State.ReadBlocked;
    this.reactor.stats.readPauses++;
    if ((conn.flags & State.Paused) === 0) conn.link.pause(conn);
  }

  /** Its queue drained: read it again, unless the application paused it. */
  drained(conn: Connection): void {
    if ((conn.flags & State.ReadBlocked) === 0) return;
    conn.flags &= ~State.ReadBlocked;
    if ((conn.flags & State.Paused) === 0) conn.link.resume(conn);
  }

  /**
   * The memory budget refused a buffer. Shed the connection with the most
   * queued (never `requester`, whose buffers are in use right now): its
   * memory is the most a single drop can win back.
   */
  shed(requester: Connection, bytes: number): void {
    let largest: Connection | undefined;
    let most = 0;
    for (const conn of this.connections) {
      const queued = conn.bufferedAmount;
      if (queued > most && conn !== requester) {
        most = queued;
        largest = conn;
      }
    }
    const reactor = this.reactor;
    reactor.stats.memoryRefusals++;
    if (largest === undefined) return;
    reactor.stats.memoryShed++;
    reactor.log('warn', `memory budget reached (${bytes} B wanted): dropping ${largest.remoteAddress}, the largest queue (${most} B)`);
    reactor.finish(largest, new Error('shed: memory budget'));
  }
}
