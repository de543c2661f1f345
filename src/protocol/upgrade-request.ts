import { isValidKey } from './accept-key.js';
import { parseExtensions, type ParsedExtension } from './extensions.js';
import { failure, type HandshakeFailure } from './handshake-failure.js';
import { collectHeaderFields, scanRequestHead } from './http-head.js';
import { listContainsToken } from './http-token.js';
import { parseSubprotocols } from './subprotocol.js';
import { UpgradeFieldSink, upgradeFieldsOf, type UpgradeFieldValues } from './upgrade-fields.js';

export type { HandshakeFailure } from './handshake-failure.js';

/**
 * The server side of the opening handshake: is this HTTP request a valid
 * WebSocket upgrade (RFC 6455 §4.2.1)? Checks run in this order, and the first
 * failure is the answer:
 *
 *   head over maxHeaderSize ............................ 431
 *   malformed request line ............................. 400
 *   HTTP major version other than 1 .................... 505
 *   malformed header fields; Host, Origin,
 *     Sec-WebSocket-Key or -Version repeated ........... 400
 *   method other than GET (§4.2.1 item 1) .............. 405 + Allow: GET
 *   HTTP/1.0 (§4.2.1 item 1: "HTTP/1.1 or higher") ..... 400
 *   request target not origin-form or absolute-form .... 400
 *   a body (Content-Length ≠ 0, Transfer-Encoding) ..... 400
 *   Host missing or empty (item 2) ..................... 400
 *   Upgrade without websocket (item 3) ................. 400
 *   Connection without upgrade (item 4) ................ 400
 *   Sec-WebSocket-Version not 13 or missing (item 6) ... 426 + Sec-WebSocket-Version: 13
 *   Sec-WebSocket-Key missing/not 16 bytes (item 5) .... 400
 *   Sec-WebSocket-Protocol malformed (item 8) .......... 400
 *   Sec-WebSocket-Extensions malformed (item 9) ........ 400
 *
 * The version is checked before the key so that a client speaking another
 * draft, whose key may look different, still learns which version to speak
 * (§4.4). Origin (item 7) is a policy decision: see origin.ts.
 */

/** Default bound on the size of a request head, request line included. Bigger heads get a 431. */
export const DEFAULT_MAX_HEADER_SIZE = 8192;

/** A valid upgrade request, ready for policy checks and the 101 response. */
export interface UpgradeRequest {
  readonly ok: true;
  /** Always `'GET'`. */
  readonly method: string;
  /** The request-target exactly as sent: `/chat?room=1`, or absolute-form. */
  readonly url: string;
  /** `'1.1'` (or a later 1.x), as Node's `IncomingMessage.httpVersion`. */
  readonly httpVersion: string;
  /** Lower-case names; repeated fields joined with `', '` (RFC 7230 §3.2.2). */
  readonly headers: ReadonlyMap<string, string>;
  /** Sec-WebSocket-Key, validated to be 16 bytes of base64. */
  readonly key: string;
  /** Sec-WebSocket-Version, always 13. */
  readonly version: number;
  readonly host: string;
  /** The Origin header, undefined when absent (a non-browser client, §4.2.1 item 7). */
  readonly origin: string | undefined;
  /** Sec-WebSocket-Protocol, in the client's order; empty when absent. */
  readonly protocols: string[];
  /** Sec-WebSocket-Extensions, in the client's order; empty when absent. */
  readonly extensions: ParsedExtension[];
}

export interface UpgradeRequestOptions {
  /** Largest head accepted, request line and final CRLFCRLF included. Default {@link DEFAULT_MAX_HEADER_SIZE}. */
  readonly maxHeaderSize?: number;
}

/**
 * A valid upgrade request as the parsers return it. Its `headers` Map is
 * built on first read from the decoded head the request keeps (one string):
 * most upgrade hooks read a path, a cookie or nothing, and the Map of a
 * browser's dozen fields was the largest object of a handshake. The data
 * fields are plain own properties of one class, so every request has the
 * same shape; subclasses (the reactor's) add where the request came from.
 */
export class UpgradeRequestHead implements UpgradeRequest {
  readonly ok = true as const;
  method = 'GET';
  url = '';
  httpVersion = '1.1';
  key = '';
  readonly version = 13;
  host = '';
  origin: string | undefined = undefined;
  protocols: string[] = [];
  extensions: ParsedExtension[] = [];
  #source: string;
  #fieldsAt: number;
  #headers: Map<string, string> | null;

  /** `source[fieldsAt..]`: the decoded head's field lines, parsed into `headers` when asked; or the Map itself. */
  constructor(source: string, fieldsAt: number, headers: Map<string, string> | null) {
    this.#source = source;
    this.#fieldsAt = fieldsAt;
    this.#headers = headers;
  }

  /** Lower-case names; repeated fields joined with `', '` (RFC 7230 §3.2.2). */
  get headers(): ReadonlyMap<string, string> {
    if (this.#headers === null) {
      this.#headers = collectHeaderFields(this.#source, this.#fieldsAt);
      this.#source = '';
    }
    return this.#headers;
  }
}

/** What the parsers build a valid request as: UpgradeRequestHead or a subclass with the same constructor. */
export type UpgradeRequestClass<T extends UpgradeRequestHead> = new (
  source: string,
  fieldsAt: number,
  headers: Map<string, string> | null,
) => T;

/** The parse is synchronous and re-entered by nothing: one sink serves every head. */
const FIELDS = new UpgradeFieldSink();

/**
 * Fields that must not appear twice: merging them would hide an ambiguity
 * (RFC 7230 §5.4 Host; RFC 6455 §11.3.1 Sec-WebSocket-Key and §11.3.5
 * Sec-WebSocket-Version "MUST NOT appear more than once in an HTTP request";
 * RFC 6454 §7.3 Origin; RFC 7230 §3.3.2 Content-Length). The byte parser's
 * sink (upgrade-fields.ts) refuses the same five; this set is for heads
 * node:http parsed.
 */
export const REQUEST_SINGLETONS: ReadonlySet<string> = new Set([
  'host',
  'origin',
  'sec-websocket-key',
  'sec-websocket-version',
  'content-length',
]);

const ALLOW_GET: Readonly<Record<string, string>> = Object.freeze({ Allow: 'GET' });
const VERSION_13: Readonly<Record<string, string>> = Object.freeze({ 'Sec-WebSocket-Version': '13' });

/**
 * Is the request-target origin-form (`/path?query`, RFC 7230 §5.3.1) or
 * absolute-form (`scheme://...`, §5.3.2)? Asterisk- and authority-form are
 * for OPTIONS and CONNECT only.
 */
export function isOriginOrAbsoluteForm(target: string): boolean {
  if (target.charCodeAt(0) === 0x2f) return true;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://"
  let i = 0;
  while (i < target.length) {
    const c = target.charCodeAt(i) | 0x20;
    const alpha = c >= 0x61 && c <= 0x7a;
    if (!alpha && (i === 0 || !((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e))) break;
    i++;
  }
  return i > 0 && target.startsWith('://', i);
}

/** Does the value hold SP, HTAB or a comma (a list, or a joined repeat)? */
export function hasSpaceOrComma(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x2c) return true;
  }
  return false;
}

/**
 * Validate the request head `buf[start, headEnd)`, where `headEnd` is what
 * findHeadEnd returned. Bytes from `headEnd` on (frames the client sent
 * without waiting) are not touched. Never throws, whatever the bytes.
 */
export function parseUpgradeRequest(
  buf: Uint8Array,
  start: number,
  headEnd: number,
  options?: UpgradeRequestOptions,
): UpgradeRequestHead | HandshakeFailure;
export function parseUpgradeRequest<T extends UpgradeRequestHead>(
  buf: Uint8Array,
  start: number,
  headEnd: number,
  options: UpgradeRequestOptions | undefined,
  as: UpgradeRequestClass<T>,
): T | HandshakeFailure;
export function parseUpgradeRequest(
  buf: Uint8Array,
  start: number,
  headEnd: number,
  options?: UpgradeRequestOptions,
  as: UpgradeRequestClass<UpgradeRequestHead> = UpgradeRequestHead,
): UpgradeRequestHead | HandshakeFailure {
  const maxHeaderSize = options?.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
  if (headEnd - start > maxHeaderSize) return failure(431, 'request header fields too large (RFC 6585 §5)');
  const fields = FIELDS.reset();
  const head = scanRequestHead(buf, start, headEnd, fields);
  if (!head.ok) return head;
  return checkUpgrade(head, fields, new as(head.source, head.fieldsAt, null));
}

/**
 * Does this request try to open a WebSocket (so that it gets the upgrade's
 * answers), or is it a plain HTTP request for the server's request handler?
 * A request that names websocket in Upgrade, or carries Sec-WebSocket-Key or
 * -Version, is an attempt, however malformed: it learns what is wrong with it
 * (400, 405, 426). One without any of these (a browser loading a page, a
 * health check, curl; `Upgrade: h2c`, which a server may ignore, RFC 7230
 * §6.7) is plain HTTP.
 */
export function isUpgradeAttempt(headers: ReadonlyMap<string, string>): boolean {
  const upgrade = headers.get('upgrade');
  return (
    (upgrade !== undefined && listContainsToken(upgrade, 'websocket')) ||
    headers.has('sec-websocket-key') ||
    headers.has('sec-websocket-version')
  );
}

/** A request head someone else parsed: node:http's `IncomingMessage` fields. */
export interface ParsedRequestFields {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** Names and values in turn, as sent (`IncomingMessage.rawHeaders`). */
  readonly rawHeaders: readonly string[];
}

/**
 * The same checks, in the same order, over a head node:http already parsed
 * (`handleUpgrade`): no bytes to rebuild and parse again. node:http has
 * checked the syntax (token names, CRLF, no obs-fold); what is left is the
 * size bound, repeated singletons and the WebSocket rules.
 */
export function checkParsedUpgradeRequest(
  fields: ParsedRequestFields,
  options?: UpgradeRequestOptions,
): UpgradeRequestHead | HandshakeFailure;
export function checkParsedUpgradeRequest<T extends UpgradeRequestHead>(
  fields: ParsedRequestFields,
  options: UpgradeRequestOptions | undefined,
  as: UpgradeRequestClass<T>,
): T | HandshakeFailure;
export function checkParsedUpgradeRequest(
  fields: ParsedRequestFields,
  options?: UpgradeRequestOptions,
  as: UpgradeRequestClass<UpgradeRequestHead> = UpgradeRequestHead,
): UpgradeRequestHead | HandshakeFailure {
  const maxHeaderSize = options?.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
  const method = fields.method ?? '';
  const target = fields.url ?? '';
  const raw = fields.rawHeaders;
  // The head's size as sent: request line, "name: value\r\n" per field, the final CRLF.
  let size = method.length + target.length + 12; // "GET /path HTTP/1.1\r\n"
  for (let i = 0; i + 1 < raw.length; i += 2) size += raw[i]!.length + raw[i + 1]!.length + 4;
  if (size + 2 > maxHeaderSize) return failure(431, 'request header fields too large (RFC 6585 §5)');
  if (fields.httpVersionMajor !== 1) return failure(505, 'only HTTP/1.1 is supported (RFC 7230 §2.6)');
  const headers = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers.get(name);
    if (previous === undefined) headers.set(name, value);
    else if (REQUEST_SINGLETONS.has(name)) return failure(400, `repeated ${name} header`);
    else headers.set(name, `${previous}, ${value}`);
  }
  const versionMinor = fields.httpVersionMinor;
  const line = { method, target, httpVersion: `1.${versionMinor}`, versionMinor };
  return checkUpgrade(line, upgradeFieldsOf(headers), new as('', 0, headers));
}

/** The request line the WebSocket rules look at, however it was parsed. */
interface RequestLineFields {
  readonly method: string;
  readonly target: string;
  readonly httpVersion: string;
  readonly versionMinor: number;
}

/**
 * RFC 6455 §4.2.1 over a syntactically valid head, in the order of the
 * table above; fills `request` and returns it when the head is valid.
 */
function checkUpgrade<T extends UpgradeRequestHead>(
  head: RequestLineFields,
  fields: UpgradeFieldValues,
  request: T,
): T | HandshakeFailure {
  if (head.method !== 'GET')
    return failure(405, 'the opening handshake must be a GET request (RFC 6455 §4.2.1 item 1)', ALLOW_GET);
  if (head.versionMinor < 1)
    return failure(400, 'the opening handshake needs HTTP/1.1 or higher (RFC 6455 §4.2.1 item 1)');
  if (!isOriginOrAbsoluteForm(head.target)) return failure(400, 'invalid request target (RFC 7230 §5.3)');

  // A GET body would be indistinguishable from the first frames (request
  // smuggling); no WebSocket client sends one.
  if (fields.hasBody) return failure(400, 'an upgrade request must not have a body (RFC 7230 §3.3)');

  const host = fields.host;
  if (host === undefined || host.length === 0) return failure(400, 'missing Host header (RFC 6455 §4.2.1 item 2)');
  if (hasSpaceOrComma(host)) return failure(400, 'invalid Host header (RFC 7230 §5.4)');

  const upgrade = fields.upgrade;
  if (upgrade === undefined || !listContainsToken(upgrade, 'websocket')) {
    return failure(400, 'missing or invalid Upgrade header, expected "websocket" (RFC 6455 §4.2.1 item 3)');
  }
  const connection = fields.connection;
  if (connection === undefined || !listContainsToken(connection, 'upgrade')) {
    return failure(400, 'missing or invalid Connection header, expected "Upgrade" (RFC 6455 §4.2.1 item 4)');
  }

  if (!fields.version13) {
    return failure(
      426,
      'unsupported or missing Sec-WebSocket-Version, expected 13 (RFC 6455 §4.2.1 item 6, §4.4)',
      VERSION_13,
    );
  }

  const key = fields.key;
  if (key === undefined) return failure(400, 'missing Sec-WebSocket-Key header (RFC 6455 §4.2.1 item 5)');
  if (!isValidKey(key))
    return failure(400, 'Sec-WebSocket-Key must be 16 bytes, base64-encoded (RFC 6455 §4.2.1 item 5)');

  const protocolHeader = fields.protocol;
  if (protocolHeader !== undefined) {
    const parsed = parseSubprotocols(protocolHeader);
    if (!parsed.ok) return failure(400, parsed.message);
    request.protocols = parsed.protocols;
  }

  const extensionHeader = fields.extensions;
  if (extensionHeader !== undefined) {
    const parsed = parseExtensions(extensionHeader);
    if (!parsed.ok) return failure(400, parsed.message);
    request.extensions = parsed.extensions;
  }

  request.method = head.method;
  request.url = head.target;
  request.httpVersion = head.httpVersion;
  request.key = key;
  request.host = host;
  request.origin = fields.origin;
  return request;
}
