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
 *   Host header is refused (answer 403); `null` and malformed origins too, and
 *   on a TLS connection an origin that is not https.
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
  return (
    (l >= 0x61 && l <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e ||
    c === 0x25
  );
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

/** The end of `scheme` in `scheme "://" ...` (RFC 3986 §3.1), or -1 when the origin does not start so. */
function schemeEnd(origin: string): number {
  let i = 0;
  while (i < origin.length) {
    const c = origin.charCodeAt(i);
    const l = c | 0x20;
    const ok =
      (l >= 0x61 && l <= 0x7a) || (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e));
    if (!ok) break;
    i++;
  }
  return i > 0 && origin.startsWith('://', i) ? i : -1;
}

/**
 * Parse a serialized origin `scheme "://" host [ ":" port ]` (RFC 6454 §6.2).
 * No path, no userinfo, no list of origins: anything else is undefined.
 */
function parseOrigin(origin: string): ParsedOrigin | undefined {
  const i = schemeEnd(origin);
  if (i < 0) return undefined;
  const scheme = origin.slice(0, i).toLowerCase();
  const authority = parseAuthority(origin, i + 3, scheme);
  return authority === undefined ? undefined : { scheme, authority };
}

/**
 * Where `host [ ":" port ]` from s[from..) ends once normalized: at the host's
 * end when the port is `scheme`'s default (`defaultPortOf`), else at the end
 * of s; -1 when it is not one. The allocation-free twin of parseAuthority
 * for the same-origin check, which runs on every browser's upgrade.
 */
function authorityEnd(s: string, from: number, defaultPortOf: string | undefined): number {
  let i = from;
  if (s.charCodeAt(i) === 0x5b) {
    i++;
    while (i < s.length && isIpLiteralChar(s.charCodeAt(i))) i++;
    if (i === from + 1 || s.charCodeAt(i) !== 0x5d) return -1;
    i++;
  } else {
    while (i < s.length && isHostChar(s.charCodeAt(i))) i++;
    if (i === from) return -1;
  }
  const hostEnd = i;
  if (i === s.length) return hostEnd;
  if (s.charCodeAt(i) !== 0x3a) return -1;
  const portStart = ++i;
  let port = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    port = port * 10 + (c - 0x30);
    i++;
  }
  const digits = i - portStart;
  if (digits === 0 || digits > 5 || port > 65535) return -1;
  return defaultPortOf !== undefined && s.startsWith(defaultPortOf, portStart) && digits === defaultPortOf.length
    ? hostEnd
    : s.length;
}

/** Are a[aFrom, aEnd) and b[bFrom, bEnd) equal, ASCII letters folded (hosts are ASCII here)? */
function equalFolded(a: string, aFrom: number, aEnd: number, b: string, bFrom: number, bEnd: number): boolean {
  if (aEnd - aFrom !== bEnd - bFrom) return false;
  for (let k = 0; k < aEnd - aFrom; k++) {
    let x = a.charCodeAt(aFrom + k);
    let y = b.charCodeAt(bFrom + k);
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/** The default port of a scheme in s[0, end), compared case-insensitively, without slicing it. */
function defaultPortIn(s: string, end: number): string | undefined {
  if (end === 2 && equalFolded(s, 0, 2, 'ws', 0, 2)) return '80';
  if (end === 3 && equalFolded(s, 0, 3, 'wss', 0, 3)) return '443';
  if (end === 4 && equalFolded(s, 0, 4, 'http', 0, 4)) return '80';
  if (end === 5 && equalFolded(s, 0, 5, 'https', 0, 5)) return '443';
  return undefined;
}

/**
 * Same origin as the Host header: what parseOrigin and parseAuthority would say, with no string made.
 * The schemes are compared where the server knows its own: on a TLS connection (`secure`) only an
 * https (or wss) page is same-origin, else a page on plain http of the same name (port 80, which a
 * Host header without a port cannot tell from 443) would pass. On a plain connection an https
 * origin is still accepted: TLS is then ended by a proxy in front, whose port the Host header names.
 */
function sameOrigin(origin: string, host: string | undefined, secure: boolean): boolean {
  if (host === undefined) return false;
  const i = schemeEnd(origin);
  if (i < 0) return false;
  const port = defaultPortIn(origin, i);
  if (secure && port !== '443') return false;
  const from = i + 3;
  const originEnd = authorityEnd(origin, from, port);
  if (originEnd < 0) return false;
  // The Host header carries no scheme: strip the port the Origin's scheme implies.
  const hostEnd = authorityEnd(host, 0, port);
  return hostEnd >= 0 && equalFolded(origin, from, originEnd, host, 0, hostEnd);
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
/** `secure`: the request came over TLS, so only an https origin can be the same origin (see sameOrigin). */
export function checkOrigin(
  origin: string | undefined,
  host: string | undefined,
  policy: undefined | readonly string[],
  request?: undefined,
  secure?: boolean,
): boolean;
export function checkOrigin(
  origin: string | undefined,
  host: string | undefined,
  policy: OriginPolicy,
  request: UpgradeRequest,
  secure?: boolean,
): boolean;
export function checkOrigin(
  origin: string | undefined,
  host: string | undefined,
  policy: OriginPolicy,
  request?: UpgradeRequest,
  secure = false,
): boolean {
  if (typeof policy === 'function') {
    if (request === undefined) throw new TypeError('checkOrigin: a function policy needs the request');
    return policy(origin, request) === true;
  }
  if (origin === undefined) return true;
  if (policy === undefined) return sameOrigin(origin, host, secure);
  return allowedByList(origin, policy);
}
