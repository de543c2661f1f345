/**
 * HTTP head helpers that only tests need: the reactor does these inline (its
 * own size check while buffering a head, a latin1 write of the response), so
 * src does not carry them.
 */
import type { HandshakeFailure } from '../../src/protocol/handshake-failure.js';
import { buildErrorResponse } from '../../src/protocol/http-response.js';
import { DEFAULT_MAX_HEADER_SIZE } from '../../src/protocol/upgrade-request.js';

/**
 * With no head end found in `buf[start, end)`, has the head outgrown `max`
 * bytes? Then the request is answered with 431 (RFC 6585 §5).
 */
export function isHeadTooLarge(start: number, end: number, max: number = DEFAULT_MAX_HEADER_SIZE): boolean {
  return end - start > max;
}

/** The error response for a refused handshake, as parseUpgradeRequest reported it. */
export function buildFailureResponse(failure: HandshakeFailure): string {
  return buildErrorResponse(failure.status, failure.message, failure.headers);
}

/** Encode a head built by http-response.ts for writing; every character is ≤ 0xFF by construction. */
export function toLatin1Buffer(head: string): Buffer {
  return Buffer.from(head, 'latin1');
}
