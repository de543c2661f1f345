/**
 * Which Host header values a server answers (the `allowedHosts` option), the
 * defence against DNS rebinding. A page on `evil.example` whose name is made
 * to resolve to 127.0.0.1 is same-origin with itself: its requests carry
 * `Origin: http://evil.example:9001` and `Host: evil.example:9001`, so an
 * origin check that compares the two (the default) passes. What the page
 * cannot change is the name it used, which the Host header carries (RFC 9110
 * §7.2): a server that answers only to its own names refuses it.
 *
 * Entries are host names or addresses, compared case-insensitively without
 * the port (the port is the one the connection reached, whatever the name):
 * `'localhost'`, `'127.0.0.1'`, `'[::1]'` (or `'::1'`), `'chat.example'`;
 * `'.example'` allows `example` and every name under it; `'*'` allows any.
 */

/** The host of a Host header, lower case, without the port; IPv6 literals keep their brackets. */
export function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return (end < 0 ? host : host.slice(0, end + 1)).toLowerCase();
  }
  const colon = host.indexOf(':');
  return (colon < 0 ? host : host.slice(0, colon)).toLowerCase();
}

/** An `allowedHosts` entry as it is compared: lower case, an IPv6 address in brackets. */
export function normalizeAllowedHost(entry: string): string {
  const lower = entry.trim().toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/** Does the server answer a request with this Host header? `allowed` holds normalized entries; undefined allows any. */
export function hostAllowed(host: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  if (host === undefined || host === '') return false;
  const name = hostName(host);
  for (const entry of allowed) {
    if (entry === '*' || entry === name) return true;
    if (entry.startsWith('.') && (name.endsWith(entry) || name === entry.slice(1))) return true;
  }
  return false;
}
