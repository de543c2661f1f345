/**
 * The token and list grammar that header field values are built from
 * (RFC 7230 §3.2.3 OWS, §3.2.6 token, §7 the `#rule` list), shared by the
 * head parser and the parsers of the WebSocket header fields.
 *
 * One left-to-right pass over char codes, no regular expressions and no
 * allocation: these run on peer-supplied values.
 */

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;

/**
 * tchar, RFC 7230 §3.2.6: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-"
 * / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. A lookup table, so
 * token checks are one array read per character.
 */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Is this char code a tchar (RFC 7230 §3.2.6)? */
export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** Is `s` a non-empty token (RFC 7230 §3.2.6)? */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    if (!isTokenChar(s.charCodeAt(i))) return false;
  }
  return true;
}

/** Skips OWS (SP / HTAB, RFC 7230 §3.2.3) from `i`; returns the index after it. */
export function skipOws(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

/** Skips OWS and commas from `i`: a list may hold empty elements (RFC 7230 §7). */
export function skipListSeparators(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== SP && c !== HTAB && c !== COMMA) break;
    i++;
  }
  return i;
}

/**
 * Does a comma-separated header list (RFC 7230 §7 `#token`) contain `wanted`,
 * compared ASCII case-insensitively? Empty list elements and OWS are allowed.
 * `wanted` must be lower case. No allocation.
 */
export function listContainsToken(value: string, wanted: string): boolean {
  const n = value.length;
  let i = 0;
  while (i < n) {
    i = skipListSeparators(value, i);
    const from = i;
    while (i < n && value.charCodeAt(i) !== COMMA) i++;
    let to = i;
    while (to > from) {
      const c = value.charCodeAt(to - 1);
      if (c !== SP && c !== HTAB) break;
      to--;
    }
    if (to - from === wanted.length && equalsLowerAscii(value, from, wanted)) return true;
  }
  return false;
}

/** Does value[from, from + lower.length) equal `lower` with ASCII letters folded to lower case? */
function equalsLowerAscii(value: string, from: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    let c = value.charCodeAt(from + k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}
