/**
 * The writing side of the Sec-WebSocket-Extensions grammar (RFC 6455 §9.1),
 * for tests: they build offers and check that what parseExtensions reads
 * round-trips. lightws negotiates no extension, so src never writes one.
 */
import { isToken } from '../../src/protocol/http-token.js';

/**
 * Serialize one extension for a Sec-WebSocket-Extensions header, e.g.
 * `permessage-deflate; server_no_context_takeover; client_max_window_bits=10`.
 * Names and values come from the test, so a non-token is a mistake and
 * throws a TypeError.
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

/** Serialize a list of extensions, comma separated, in order. */
export function formatExtensions(list: readonly { readonly name: string; readonly params?: ReadonlyMap<string, string | true> }[]): string {
  return list.map((e) => formatExtension(e.name, e.params)).join(', ');
}
