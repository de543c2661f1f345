/**
 * HTTP head helpers that only tests need: the reactor does these inline (its
 * own size check while buffering a head), so src does not carry them.
 */
import { DEFAULT_MAX_HEADER_SIZE } from '../../src/protocol/upgrade-request.js';

/**
 * With no head end found in `buf[start, end)`, has the head outgrown `max`
 * bytes? Then the request is answered with 431 (RFC 6585 §5).
 */
export function isHeadTooLarge(start: number, end: number, max: number = DEFAULT_MAX_HEADER_SIZE): boolean {
  return end - start > max;
}
