import { isToken, isTokenChar, skipListSeparators, skipOws } from './http-token.js';

/**
 * The |Sec-WebSocket-Extensions| header field, RFC 6455 §9.1:
 *
 *     extension-list  = 1#extension
 *     extension       = extension-token *( ";" extension-param )
 *     extension-param = token [ "=" (token | quoted-string) ]
 *
 * with the implied linear whitespace of RFC 2616 (OWS around ",", ";" and
 * "="), empty list elements tolerated (RFC 7230 §7), and a quoted value whose
 * unescaped content must itself be a token (§9.1).
 *
 * Written against two bugs other servers shipped:
 * - names are peer-supplied, so they key a Map, never a plain object: an
 *   extension or parameter called `__proto__`, `constructor` or
 *   `hasOwnProperty` is just a string;
 * - no regular expressions: one left-to-right pass over char codes, every
 *   character read once, so 50 KB of `;,, ;` costs microseconds, not a ReDoS.
 */

/** One element of the list, in the order sent (RFC 7692 §5: offer order is preference order). */
export interface ParsedExtension {
  /** The extension-token, case preserved. */
  readonly name: string;
  /** Parameters in the order sent; a parameter without a value maps to `true`. First value wins on a repeat. */
  readonly params: Map<string, string | true>;
  /**
   * A parameter name appeared more than once. RFC 7692 §7 makes a server
   * decline such a permessage-deflate offer, not fail the handshake, so the
   * parser reports it instead of refusing.
   */
  readonly hasDuplicateParam: boolean;
}

export type ExtensionsParseResult =
  { readonly ok: true; readonly extensions: ParsedExtension[] } | { readonly ok: false; readonly message: string };

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

function bad(message: string, at: number): ExtensionsParseResult {
  return { ok: false, message: `invalid Sec-WebSocket-Extensions: ${message} at index ${at} (RFC 6455 §9.1)` };
}

/** End of the token starting at `i` (== i when there is none). */
function scanToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Parse a Sec-WebSocket-Extensions value. Never throws; a malformed value
 * gives `{ ok: false, message }`, which a server answers with 400.
 */
export function parseExtensions(value: string): ExtensionsParseResult {
  const n = value.length;
  const extensions: ParsedExtension[] = [];
  let i = 0;
  // State: expecting an extension-token (start of a list element).
  while (true) {
    // Empty list elements and OWS between elements (RFC 7230 §7).
    i = skipListSeparators(value, i);
    if (i === n) break;
    const nameEnd = scanToken(value, i);
    if (nameEnd === i) return bad('expected an extension name', i);
    const name = value.slice(i, nameEnd);
    const params = new Map<string, string | true>();
    let hasDuplicateParam = false;
    i = skipOws(value, nameEnd);
    // State: after the extension-token or a parameter; expecting ";", "," or the end.
    while (i < n && value.charCodeAt(i) === SEMICOLON) {
      // State: expecting a parameter name.
      i = skipOws(value, i + 1);
      const paramEnd = scanToken(value, i);
      if (paramEnd === i) return bad('expected a parameter name', i);
      const paramName = value.slice(i, paramEnd);
      let paramValue: string | true = true;
      i = skipOws(value, paramEnd);
      if (i < n && value.charCodeAt(i) === EQUALS) {
        // State: expecting a token or a quoted-string.
        i = skipOws(value, i + 1);
        if (i < n && value.charCodeAt(i) === DQUOTE) {
          const quoteAt = i;
          // State: inside quoted-string (RFC 7230 §3.2.6). Escapes are rare,
          // so the content is sliced once unless a quoted-pair shows up.
          let unescaped = '';
          let runStart = ++i;
          let closed = false;
          while (i < n) {
            const c = value.charCodeAt(i);
            if (c === DQUOTE) {
              closed = true;
              break;
            }
            if (c === BACKSLASH) {
              // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
              const next = i + 1 < n ? value.charCodeAt(i + 1) : -1;
              if (next < 0 || (next < SP && next !== HTAB) || next === 0x7f)
                return bad('invalid escape in quoted-string', i);
              unescaped += value.slice(runStart, i);
              runStart = i + 1;
              i += 2;
              continue;
            }
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            if ((c < SP && c !== HTAB) || c === 0x7f) return bad('control character in quoted-string', i);
            i++;
          }
          if (!closed) return bad('unterminated quoted-string', quoteAt);
          unescaped += value.slice(runStart, i);
          i++; // past the closing DQUOTE
          // §9.1: "the value after quoted-string unescaping MUST conform to the 'token' ABNF".
          if (!isToken(unescaped)) return bad('quoted parameter value is not a token', quoteAt);
          paramValue = unescaped;
        } else {
          const valueEnd = scanToken(value, i);
          if (valueEnd === i) return bad('expected a parameter value', i);
          paramValue = value.slice(i, valueEnd);
          i = valueEnd;
        }
        i = skipOws(value, i);
      }
      if (params.has(paramName)) hasDuplicateParam = true;
      else params.set(paramName, paramValue);
    }
    if (i < n && value.charCodeAt(i) !== COMMA) return bad('unexpected character', i);
    extensions.push({ name, params, hasDuplicateParam });
  }
  if (extensions.length === 0)
    return { ok: false, message: 'invalid Sec-WebSocket-Extensions: empty list (RFC 6455 §9.1)' };
  return { ok: true, extensions };
}

/**
 * Serializes one extension for a Sec-WebSocket-Extensions header, e.g.
 * `permessage-deflate; server_no_context_takeover; client_max_window_bits=10`
 * (RFC 6455 §9.1). Names and values come from our own code, so a non-token
 * is a bug and throws a TypeError.
 */
export function formatExtension(name: string, params?: ReadonlyMap<string, string | true>): string {
  if (!isToken(name)) throw new TypeError(`extension name is not a token: ${JSON.stringify(name)}`);
  let out = name;
  if (params !== undefined) {
    for (const [param, v] of params) {
      if (!isToken(param)) throw new TypeError(`extension parameter name is not a token: ${JSON.stringify(param)}`);
      if (v === true) out += `; ${param}`;
      else if (isToken(v)) out += `; ${param}=${v}`;
      else throw new TypeError(`extension parameter value is not a token: ${JSON.stringify(v)}`);
    }
  }
  return out;
}
