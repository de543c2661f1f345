import { isTokenChar } from './http-token.js';

/**
 * Can these bytes still begin a valid HTTP/1.1 request head (RFC 7230 §3)?
 *
 * A head that arrives in pieces is only parsed once complete; until then a
 * peer sending anything at all could hold the connection open for the whole
 * head-size limit or handshake timeout. This scanner reads each new byte
 * once, as it arrives, and says "no" at the first byte that no valid request
 * could have there: a method that is not a token, a control character in
 * the target, a version that is not `HTTP/d.d`, a header name with a
 * character outside tchar, a bare CR or LF, an obs-fold. It is as strict as
 * the head parser (http-head.ts), which stays the judge of a complete head.
 *
 * The position in the grammar is one small integer, so a connection keeps
 * it in a number field between reads and a head trickling in byte by byte
 * costs linear work in total.
 */

/** The state to start from. */
export const REQUEST_PREFIX_START = 0;
/** Returned once the bytes cannot begin a valid request head. Sticky. */
export const REQUEST_PREFIX_INVALID = -1;

const SP = 0x20;
const HTAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;
const VERSION = 'HTTP/0.0';

// Phases; a state is phase * 16 + an index (only the version literal uses one).
const METHOD_START = 0;
const METHOD = 1;
const TARGET_START = 2;
const TARGET = 3;
const HTTP_VERSION = 4;
const LINE_CR = 5;
const LINE_LF = 6;
const FIELD_START = 7;
const FIELD_NAME = 8;
const FIELD_VALUE = 9;
const FIELD_LF = 10;
const FINAL_LF = 11;
const COMPLETE = 12;

/**
 * Advances `state` over `buf[start..end)`. Returns the new state, or
 * REQUEST_PREFIX_INVALID. Bytes after a complete head are not looked at.
 */
export function scanRequestPrefix(buf: Uint8Array, start: number, end: number, state: number): number {
  if (state < 0) return REQUEST_PREFIX_INVALID;
  let phase = state >>> 4;
  let index = state & 15;
  for (let i = start; i < end && phase !== COMPLETE; i++) {
    const c = buf[i]!;
    switch (phase) {
      case METHOD_START: // method = token (§3.1.1)
        if (!isTokenChar(c)) return REQUEST_PREFIX_INVALID;
        phase = METHOD;
        break;
      case METHOD:
        if (c === SP) phase = TARGET_START;
        else if (!isTokenChar(c)) return REQUEST_PREFIX_INVALID;
        break;
      case TARGET_START: // request-target: visible US-ASCII (RFC 3986)
      case TARGET:
        if (c === SP && phase === TARGET) {
          phase = HTTP_VERSION;
          index = 0;
        } else if (c <= SP || c >= 0x7f) return REQUEST_PREFIX_INVALID;
        else phase = TARGET;
        break;
      case HTTP_VERSION: {
        // HTTP-version = "HTTP/" DIGIT "." DIGIT (§2.6)
        const digit = index === 5 || index === 7;
        if (digit ? c < 0x30 || c > 0x39 : c !== VERSION.charCodeAt(index)) return REQUEST_PREFIX_INVALID;
        if (++index === VERSION.length) {
          phase = LINE_CR;
          index = 0;
        }
        break;
      }
      case LINE_CR:
        if (c !== CR) return REQUEST_PREFIX_INVALID;
        phase = LINE_LF;
        break;
      default:
        phase = fieldStep(phase, c);
        if (phase < 0) return REQUEST_PREFIX_INVALID;
    }
  }
  return phase * 16 + index;
}

/** One byte of the header section (§3.2, §3.5): the phases after the request line. */
function fieldStep(phase: number, c: number): number {
  switch (phase) {
    case LINE_LF:
    case FIELD_LF:
      return c === LF ? FIELD_START : -1;
    case FIELD_START:
      if (c === CR) return FINAL_LF; // the empty line that ends the head
      return isTokenChar(c) ? FIELD_NAME : -1; // SP/HTAB here would be obs-fold (§3.2.4)
    case FIELD_NAME:
      if (c === COLON) return FIELD_VALUE;
      return isTokenChar(c) ? FIELD_NAME : -1; // no whitespace before the colon (§3.2.4)
    case FIELD_VALUE: // field-content: VCHAR / obs-text, with SP and HTAB
      if (c === CR) return FIELD_LF;
      return c === HTAB || (c >= SP && c !== 0x7f) ? FIELD_VALUE : -1;
    case FINAL_LF:
      return c === LF ? COMPLETE : -1;
    default:
      return -1;
  }
}
