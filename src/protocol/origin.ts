import type { UpgradeRequest } from './upgrade-request.js';

/**
 * Origin policy (RFC 6455 §4.2.1 item 7, §10.2; RFC 6454 for the syntax).
 * Browsers always send |Origin|, so checking it is what stops a page on
 * another site from opening a socket with the user's cookies (cross-site
 * WebSocket hijacking). Non-browser clients may omit it, and could forge it
 * anyway, so an absent Origin is allowed by every built-in policy; pass a
 * function to require one.
 */

/** Decide from the Origin header (undefined when absent) and the whole request. */
export type OriginVerifier = (origin: string | undefined, request: UpgradeRequest) => boolean;

/**
 * - `undefined`: same-origin only. An Origin whose host[:port] differs from the
 *   Host header is refused (answer 403); `null` and malformed origins too.
 * - a list: exact origins such as `'https://example.com'`, compared
 *   case-insensitively on scheme and host with default ports ignored; `'*'`
 *   allows every origin; `'null'` may be listed to allow opaque origins.
 * - a function: called for every request; its answer is final. If it throws,
 *   the exception propagates to the caller.
 */
export type OriginPolicy = undefined | readonly string[] | OriginVerifier;

interface ParsedOrigin {
  /** Lower case. */
  readonly scheme: string;
  /** Lower case `host` or `host:port`, the scheme's default port removed. */
  readonly authority: string;
}

function defaultPort(scheme: string): string | undefined {
  if (scheme === 'http' || scheme === 'ws') return '80';
  if (scheme === 'https' || scheme === 'wss') return '443';
  return undefined;
}

/** ALPHA / DIGIT / "-" / "." / "_" / "~" / "%": reg-name and IPv4 (RFC 3986 §3.2.2), sub-delims left out. */
function isHostChar(c: number): boolean {
  const l = c | 0x20;
  return (l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x25;
}

/** Hex digits, ":" and "." inside an IP-literal's brackets. */
function isIpLiteralChar(c: number): boolean {
  const l = c | 0x20;
  return (l >= 0x61 && l <= 0x66) || (c >= 0x30 && c <= 0x39) || c === 0x3a || c === 0x2e;
}

/**
 * Parse `host [ ":" port ]` from s[from, s.length) (RFC 3986 §3.2.2–3.2.3);
 * returns it lower-cased without `scheme`'s default port, or undefined.
 */
function parseAuthority(s: string, from: number, scheme: string): string | undefined {
  let i = from;
  if (s.charCodeAt(i) === 0x5b) {
    // IP-literal: "[" IPv6address "]"
    i++;
    while (i < s.length && isIpLiteralChar(s.charCodeAt(i))) i++;
    if (i === from + 1 || s.charCodeAt(i) !== 0x5d) return undefined;
    i++;
  } else {
    while (i < s.length && isHostChar(s.charCodeAt(i))) i++;
    if (i === from) return undefined;
  }
  const hostEnd = i;
  if (i < s.length) {
    if (s.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    const portStart = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return undefined;
      i++;
    }
    const port = s.slice(portStart);
    if (port.length === 0 || port.length > 5 || Number(port) > 65535) return undefined;
    if (port !== defaultPort(scheme)) return s.slice(from).toLowerCase();
  }
  return s.slice(from, hostEnd).toLowerCase();
}

/**
 * Parse a serialized origin `scheme "://" host [ ":" port ]` (RFC 6454 §6.2).
 * No path, no userinfo, no list of origins: anything else is undefined.
 */
function parseOrigin(origin: string): ParsedOrigin | undefined {
  let i = 0;
  while (i < origin.length) {
    const c = origin.charCodeAt(i);
    const l = c | 0x20;
    const ok = (l >= 0x61 && l <= 0x7a) || (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e));
    if (!ok) break;
    i++;
  }
  if (i === 0 || !origin.startsWith('://', i)) return undefined;
  const scheme = origin.slice(0, i).toLowerCase();
  const authority = parseAuthority(origin, i + 3, scheme);
  return authority === undefined ? undefined : { scheme, authority };
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  const parsed = parseOrigin(origin);
  if (parsed === undefined) return false;
  // The Host header carries no scheme: strip the port the Origin's scheme implies.
  const hostAuthority = parseAuthority(host, 0, parsed.scheme);
  return hostAuthority !== undefined && hostAuthority === parsed.authority;
}

function allowedByList(origin: string, allowed: readonly string[]): boolean {
  const parsed = parseOrigin(origin);
  for (const entry of allowed) {
    if (entry === '*') return true;
    if (parsed !== undefined) {
      const e = parseOrigin(entry);
      if (e !== undefined && e.scheme === parsed.scheme && e.authority === parsed.authority) return true;
    } else if (entry.toLowerCase() === origin.toLowerCase()) {
      // Origins that do not parse (`null`) match only when listed literally.
      return true;
    }
  }
  return false;
}

/** May this request proceed? False means answer 403. */
export function checkOrigin(origin: string | undefined, host: string | undefined, policy: undefined | readonly string[]): boolean;
export function checkOrigin(origin: string | undefined, host: string | undefined, policy: OriginPolicy, request: UpgradeRequest): boolean;
export function checkOrigin(origin: string | undefined, host: string | undefined, policy: OriginPolicy, request?: UpgradeRequest): boolean {
  if (typeof policy === 'function') {
    if (request === undefined) throw new TypeError('checkOrigin: a function policy needs the request');
    return policy(origin, request) === true;
  }
  if (origin === undefined) return true;
  if (policy === undefined) return sameOrigin(origin, host);
  return allowedByList(origin, policy);
}
