import { State } from '../connection/connection-state.js';
import type { Lifecycle } from './lifecycle.js';
import type { ConnectionRegistry } from '../connection/registry.js';
import type { ReactorStats } from '../observe/stats.js';

/**
 * The end of every connection, gracefully (`server.close()`): Close to each
 * WebSocket, those still in their upgrade dropped, then a wait of up to
 * `timeoutMs` for the closing handshakes, then whatever is left dropped.
 *
 * Plain HTTP connections stay while the WebSockets drain: a request on one
 * (a load balancer's keep-alive health check) is still answered, health with
 * 503, and `Connection: close` ends it; an upgrade on one gets 503. They are
 * not waited for: once only they are left, they go too.
 */
export async function drainAndEnd(
  registry: ConnectionRegistry,
  lifecycle: Lifecycle,
  stats: ReactorStats,
  /** Begins the drain of plain HTTP (server role): health answers 503, responses close. */
  beginDrain: () => void,
  timeoutMs: number,
  code: number,
  reason: string,
): Promise<{ closed: number; terminated: number }> {
  const before = registry.size;
  const timedOutBefore = stats.closeTimeouts;
  beginDrain();
  registry.forEach((conn) => {
    if ((conn.flags & (State.Http | State.Open)) !== State.Http) lifecycle.close(conn, code, reason);
  });
  let timer: NodeJS.Timeout | undefined;
  // Only plain HTTP connections left: checked at each connection's end, not polled.
  const onlyHttpLeft = registry.whenAtMost(() => stats.httpNow);
  await Promise.race([onlyHttpLeft, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  // Dropped: those whose close timeout fired during the drain (the peer never answered our Close;
  // closeTimeoutMs and timeoutMs are often alike), and the WebSockets still open now.
  let terminated = stats.closeTimeouts - timedOutBefore;
  registry.forEach((conn) => {
    if ((conn.flags & State.Open) !== 0) terminated++;
    lifecycle.terminate(conn);
  });
  return { closed: before - terminated, terminated };
}
