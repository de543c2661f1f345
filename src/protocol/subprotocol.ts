import { isTokenChar, skipListSeparators, skipOws } from './http-token.js';

/**
 * The |Sec-WebSocket-Protocol| header field (RFC 6455 §4.1 item 10, §11.3.4):
 * a comma-separated list of tokens (RFC 7230 §3.2.6), with OWS around the
 * commas and empty list elements ignored (RFC 7230 §7). Subprotocol names are
 * compared case-sensitively, as the registry lists them.
 */

export type SubprotocolsParseResult =
  { readonly ok: true; readonly protocols: string[] } | { readonly ok: false; readonly message: string };

const COMMA = 0x2c;

function bad(message: string): SubprotocolsParseResult {
  return { ok: false, message: `invalid Sec-WebSocket-Protocol: ${message} (RFC 6455 §4.1)` };
}

/**
 * Parse the client's offer, in the order sent. Never throws; an invalid token,
 * a repeated name or an empty list gives `{ ok: false }` (answer 400).
 */
export function parseSubprotocols(value: string): SubprotocolsParseResult {
  const n = value.length;
  const protocols: string[] = [];
  // Offers are a handful of names, searched linearly; a long list (an 8 KiB
  // header holds ~2,700 short names) switches to a Set so it stays linear.
  let seen: Set<string> | undefined;
  let i = 0;
  while (true) {
    i = skipListSeparators(value, i);
    if (i === n) break;
    const start = i;
    while (i < n && isTokenChar(value.charCodeAt(i))) i++;
    if (i === start) return bad(`unexpected character at index ${i}`);
    const name = value.slice(start, i);
    i = skipOws(value, i);
    if (i < n && value.charCodeAt(i) !== COMMA) return bad(`unexpected character at index ${i}`);
    // §4.1 item 10: "each value ... MUST be unique".
    if (seen === undefined && protocols.length >= 16) seen = new Set(protocols);
    if (seen === undefined ? protocols.includes(name) : seen.has(name))
      return bad(`repeated subprotocol ${JSON.stringify(name)}`);
    protocols.push(name);
    seen?.add(name);
  }
  if (protocols.length === 0) return bad('empty list');
  return { ok: true, protocols };
}

/**
 * Pick the subprotocol to answer with (RFC 6455 §4.2.2 item 5.4): the first
 * of the server's names, in the server's order of preference, that the client
 * offered. Undefined when there is none; the response then carries no
 * Sec-WebSocket-Protocol header.
 */
export function selectSubprotocol(serverPreferred: readonly string[], offered: readonly string[]): string | undefined {
  if (offered.length === 0) return undefined;
  for (const name of serverPreferred) {
    if (offered.includes(name)) return name;
  }
  return undefined;
}
