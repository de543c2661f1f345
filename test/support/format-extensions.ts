/**
 * The writing side of the Sec-WebSocket-Extensions grammar (RFC 6455 §9.1),
 * for tests: they build offers and check that what parseExtensions reads
 * round-trips. One extension is src's formatExtension; a list is the tests' own.
 */
import { formatExtension } from '../../src/protocol/extensions.js';

export { formatExtension };

/** Serialize a list of extensions, comma separated, in order. */
export function formatExtensions(
  list: readonly { readonly name: string; readonly params?: ReadonlyMap<string, string | true> }[],
): string {
  return list.map((e) => formatExtension(e.name, e.params)).join(', ');
}
