import { failure, type HandshakeFailure } from './handshake-failure.js';
import { isTokenChar } from './http-token.js';

/**
 * The HTTP/1.1 message head (RFC 7230 §3) once its end is known (see
 * http-head-end.ts): the start line (a request line or a status line) and the
 * header fields.
 *
 * Pure code over a caller-owned byte range: no sockets, no timers, one latin1
 * decode of the whole head. Nothing in here throws on peer-supplied bytes;
 * malformed input becomes a {@link HandshakeFailure} with the HTTP status to
 * answer with.
 *
 * Deliberately strict, because a WebSocket handshake is the only message this
 * server accepts and every real client sends a tidy head:
 * - lines end in CRLF only; a bare LF or bare CR is a 400 (RFC 7230 §3.5
 *   allows, but does not require, accepting a bare LF);
 * - obs-fold (a header line starting with SP/HTAB) is a 400 (RFC 7230 §3.2.4);
 * - no whitespace between a field name and its colon (RFC 7230 §3.2.4);
 * - control characters other than HTAB inside a field value are a 400;
 * - no empty lines before the request line (RFC 7230 §3.5 SHOULD ignore one,
 *   but a fresh WebSocket connection never starts with one).
 */

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** The request line, RFC 7230 §3.1.1. */
export interface RequestLine {
  readonly method: string;
  /** The request-target (RFC 7230 §5.3) exactly as sent. */
  readonly target: string;
  /** `'1.1'`, as Node's `IncomingMessage.httpVersion`. */
  readonly httpVersion: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
}

/** The status line, RFC 7230 §3.1.2. */
export interface StatusLine {
  readonly httpVersion: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly statusCode: number;
  readonly reason: string;
}

export interface ParsedRequestHead extends RequestLine {
  readonly ok: true;
  /** Lower-case field names; repeated fields joined with `', '` (RFC 7230 §3.2.2). */
  readonly headers: Map<string, string>;
}

export interface ParsedResponseHead extends StatusLine {
  readonly ok: true;
  /** Lower-case field names; repeated fields joined with `', '` (RFC 7230 §3.2.2). */
  readonly headers: Map<string, string>;
}

const EMPTY_SET: ReadonlySet<string> = new Set();

/**
 * Decode `buf[start, headEnd)` as latin1 (RFC 7230 §3.2.4: field values are
 * historically ISO-8859-1; the one-byte string V8 builds is cheap to slice).
 * Returns undefined if the range is not a complete head ending in CRLFCRLF.
 */
function decodeHead(buf: Uint8Array, start: number, headEnd: number): string | undefined {
  if (!Number.isInteger(start) || !Number.isInteger(headEnd)) return undefined;
  if (start < 0 || headEnd > buf.length || headEnd - start < 4) return undefined;
  if (buf[headEnd - 4] !== CR || buf[headEnd - 3] !== LF || buf[headEnd - 2] !== CR || buf[headEnd - 1] !== LF)
    return undefined;
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return view.toString('latin1', start, headEnd);
}

/**
 * Index of the CR of the CRLF that ends the line starting at `from`, or -1 if
 * the line holds a bare CR or bare LF first. The head always ends in CRLFCRLF,
 * so a CRLF is always found before the end of `s`.
 */
function findLineEnd(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === CR) return s.charCodeAt(i + 1) === LF ? i : -1;
    if (c === LF) return -1;
  }
  return -1;
}

/** Parse `HTTP/` DIGIT `.` DIGIT (RFC 7230 §2.6) in s[from, to); returns major*10+minor or -1. */
function parseHttpVersion(s: string, from: number, to: number): number {
  if (to - from !== 8 || !s.startsWith('HTTP/', from) || s.charCodeAt(from + 6) !== 0x2e) return -1;
  const major = s.charCodeAt(from + 5) - 0x30;
  const minor = s.charCodeAt(from + 7) - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return -1;
  return major * 10 + minor;
}

/**
 * Where the header fields go as they are scanned: a Map of every field
 * (parseRequestHead, the lazy `headers` of an upgrade request), or only the
 * few fields a caller reads (upgrade-fields.ts), so a head is validated
 * without slicing and lower-casing the fields nobody asked for. `s[nameStart,
 * nameEnd)` is a syntactically valid token, `s[valueStart, valueEnd)` the
 * value without OWS. A failure stops the scan and is its answer.
 */
export interface HeaderSink {
  field(
    s: string,
    nameStart: number,
    nameEnd: number,
    valueStart: number,
    valueEnd: number,
  ): HandshakeFailure | undefined;
}

/** Every field, lower-case names, repeats joined with `', '` (RFC 7230 §3.2.2) unless the name is a singleton. */
class MapSink implements HeaderSink {
  readonly headers = new Map<string, string>();

  constructor(private readonly singletons: ReadonlySet<string>) {}

  field(
    s: string,
    nameStart: number,
    nameEnd: number,
    valueStart: number,
    valueEnd: number,
  ): HandshakeFailure | undefined {
    const name = s.slice(nameStart, nameEnd).toLowerCase();
    const value = s.slice(valueStart, valueEnd);
    const headers = this.headers;
    const previous = headers.get(name);
    if (previous === undefined) headers.set(name, value);
    else if (this.singletons.has(name)) return failure(400, `repeated ${name} header`);
    else headers.set(name, `${previous}, ${value}`);
    return undefined;
  }
}

/**
 * Scan the header fields from `pos` (the start of the first field line) to
 * the final empty line, checking their syntax and handing each to `sink`.
 */
function scanHeaderFields(s: string, pos: number, sink: HeaderSink): HandshakeFailure | undefined {
  const last = s.length - 2; // where the final empty line's CRLF starts
  while (pos < last) {
    const first = s.charCodeAt(pos);
    // RFC 7230 §3.2.4: obs-fold is deprecated; a server must reject it or unfold it.
    if (first === SP || first === HTAB) return failure(400, 'obsolete line folding in header (RFC 7230 §3.2.4)');
    let i = pos;
    while (i < last && isTokenChar(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== COLON) {
      const c = s.charCodeAt(i);
      if (c === SP || c === HTAB)
        return failure(400, 'whitespace between header field name and colon (RFC 7230 §3.2.4)');
      if (c === CR || c === LF) return failure(400, 'header line without a colon (RFC 7230 §3.2)');
      return failure(400, 'invalid character in header field name (RFC 7230 §3.2.6)');
    }
    if (i === pos) return failure(400, 'empty header field name (RFC 7230 §3.2)');
    const nameEnd = i;
    i++;
    // OWS before the value (RFC 7230 §3.2.3).
    while (true) {
      const c = s.charCodeAt(i);
      if (c !== SP && c !== HTAB) break;
      i++;
    }
    const valueStart = i;
    let valueEnd = i;
    // field-content: VCHAR / obs-text with SP / HTAB inside (RFC 7230 §3.2).
    while (true) {
      const c = s.charCodeAt(i);
      if (c === CR) {
        if (s.charCodeAt(i + 1) !== LF) return failure(400, 'bare CR in header (RFC 7230 §3.5)');
        break;
      }
      if (c > SP && c !== 0x7f) valueEnd = i + 1;
      else if (c !== SP && c !== HTAB) {
        return c === LF
          ? failure(400, 'bare LF in header; lines must end in CRLF (RFC 7230 §3.5)')
          : failure(400, 'control character in header field value (RFC 7230 §3.2)');
      }
      i++;
    }
    const bad = sink.field(s, pos, nameEnd, valueStart, valueEnd);
    if (bad !== undefined) return bad;
    pos = i + 2;
  }
  return undefined;
}

/**
 * The Map of a head already scanned without one: `source` is the decoded
 * head, `fieldsAt` where its first field line starts. The head was valid
 * then, so this cannot fail; it gives what parseRequestHead's Map held.
 */
export function collectHeaderFields(source: string, fieldsAt: number): Map<string, string> {
  const sink = new MapSink(EMPTY_SET);
  scanHeaderFields(source, fieldsAt, sink);
  return sink.headers;
}

/** A request head scanned into a sink: the request line, and where the fields are in `source`. */
export interface ScannedRequestHead extends RequestLine {
  readonly ok: true;
  /** The whole head, decoded as latin1. */
  readonly source: string;
  /** Index in `source` of the first field line. */
  readonly fieldsAt: number;
}

/**
 * Scan a request head: `method SP request-target SP HTTP-version CRLF`, then
 * header fields (RFC 7230 §3), each handed to `sink`. `headEnd` is what
 * findHeadEnd (http-head-end.ts) returned. Only syntax is checked here, plus
 * the HTTP version (major 1 only: others get 505). Never throws.
 */
export function scanRequestHead(
  buf: Uint8Array,
  start: number,
  headEnd: number,
  sink: HeaderSink,
): ScannedRequestHead | HandshakeFailure {
  const s = decodeHead(buf, start, headEnd);
  if (s === undefined) return failure(400, 'incomplete request head');
  const lineEnd = findLineEnd(s, 0);
  if (lineEnd < 0) return failure(400, 'request line must end in CRLF (RFC 7230 §3.5)');
  // method = token, then exactly one SP (RFC 7230 §3.1.1).
  let i = 0;
  while (i < lineEnd && isTokenChar(s.charCodeAt(i))) i++;
  if (i === 0 || s.charCodeAt(i) !== SP) return failure(400, 'malformed request line (RFC 7230 §3.1.1)');
  // The one method a WebSocket client sends, without a new string for it.
  const method = i === 3 && s.startsWith('GET') ? 'GET' : s.slice(0, i);
  // request-target: visible US-ASCII only (RFC 3986 has no room for more).
  const targetStart = ++i;
  while (i < lineEnd) {
    const c = s.charCodeAt(i);
    if (c <= SP || c >= 0x7f) break;
    i++;
  }
  if (i === targetStart || s.charCodeAt(i) !== SP) return failure(400, 'malformed request target (RFC 7230 §3.1.1)');
  const target = s.slice(targetStart, i);
  const version = parseHttpVersion(s, i + 1, lineEnd);
  if (version < 0) return failure(400, 'malformed HTTP version (RFC 7230 §2.6)');
  const versionMajor = (version / 10) | 0;
  const versionMinor = version % 10;
  if (versionMajor !== 1) return failure(505, 'only HTTP/1.1 is supported (RFC 7230 §2.6)');
  const bad = scanHeaderFields(s, lineEnd + 2, sink);
  if (bad !== undefined) return bad;
  const httpVersion = version === 11 ? '1.1' : `${versionMajor}.${versionMinor}`;
  return { ok: true, method, target, httpVersion, versionMajor, versionMinor, source: s, fieldsAt: lineEnd + 2 };
}

/** Parse a request head into a Map of its fields (scanRequestHead with every field kept). Never throws. */
export function parseRequestHead(
  buf: Uint8Array,
  start: number,
  headEnd: number,
  singletons: ReadonlySet<string> = EMPTY_SET,
): ParsedRequestHead | HandshakeFailure {
  const sink = new MapSink(singletons);
  const head = scanRequestHead(buf, start, headEnd, sink);
  if (!head.ok) return head;
  const { method, target, httpVersion, versionMajor, versionMinor } = head;
  return { ok: true, method, target, httpVersion, versionMajor, versionMinor, headers: sink.headers };
}

/**
 * Parse a response head: `HTTP-version SP status-code SP reason-phrase CRLF`,
 * then header fields (RFC 7230 §3.1.2). Used by the client role. A missing
 * reason phrase (and its SP) is tolerated: some servers send `HTTP/1.1 101`.
 */
export function parseResponseHead(
  buf: Uint8Array,
  start: number,
  headEnd: number,
  singletons: ReadonlySet<string> = EMPTY_SET,
): ParsedResponseHead | HandshakeFailure {
  const s = decodeHead(buf, start, headEnd);
  if (s === undefined) return failure(400, 'incomplete response head');
  const lineEnd = findLineEnd(s, 0);
  if (lineEnd < 0) return failure(400, 'status line must end in CRLF (RFC 7230 §3.5)');
  const version = parseHttpVersion(s, 0, 8);
  if (version < 0 || s.charCodeAt(8) !== SP) return failure(400, 'malformed status line (RFC 7230 §3.1.2)');
  let statusCode = 0;
  for (let i = 9; i < 12; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return failure(400, 'malformed status code (RFC 7230 §3.1.2)');
    statusCode = statusCode * 10 + d;
  }
  if (lineEnd !== 12 && s.charCodeAt(12) !== SP) return failure(400, 'malformed status line (RFC 7230 §3.1.2)');
  let reason = '';
  if (lineEnd > 13) {
    // reason-phrase = *( HTAB / SP / VCHAR / obs-text )
    for (let i = 13; i < lineEnd; i++) {
      const c = s.charCodeAt(i);
      if ((c < SP && c !== HTAB) || c === 0x7f)
        return failure(400, 'control character in reason phrase (RFC 7230 §3.1.2)');
    }
    reason = s.slice(13, lineEnd);
  }
  const sink = new MapSink(singletons);
  const bad = scanHeaderFields(s, lineEnd + 2, sink);
  if (bad !== undefined) return bad;
  const versionMajor = (version / 10) | 0;
  const versionMinor = version % 10;
  return {
    ok: true,
    httpVersion: `${versionMajor}.${versionMinor}`,
    versionMajor,
    versionMinor,
    statusCode,
    reason,
    headers: sink.headers,
  };
}
