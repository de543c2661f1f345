import { channels } from '../../api/diagnostics.js';
import type { ConnectionRecord } from '../connection/connection-record.js';
import type { Reporter } from '../observe/reporter.js';

/** What a refusal is about, for the log and diagnostics: the request, when it got far enough to be parsed. */
export interface RefusedRequest {
  readonly url: string;
  readonly origin: string | undefined;
}

/**
 * Tells of a refused handshake: logged at info, and published on the
 * `refused` diagnostics channel. The peer's address is looked up only when
 * someone listens (it costs a getpeername).
 */
export function reportRefusal(
  reporter: Reporter,
  conn: ConnectionRecord,
  status: number,
  message: string,
  request: RefusedRequest | undefined,
): void {
  const observed = channels.refused.hasSubscribers;
  if (!observed && !reporter.logs('info')) return;
  const remoteAddress = conn.remoteAddress;
  const origin = request?.origin;
  reporter.log(
    'info',
    `refused ${request === undefined ? 'a request' : `upgrade to ${request.url}`} from ${remoteAddress}` +
      `${origin === undefined ? '' : ` (Origin: ${origin})`}: ${status} ${message}`,
  );
  if (observed) channels.refused.publish({ status, reason: message, url: request?.url, origin, remoteAddress });
}
