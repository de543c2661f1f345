import { acceptKey, isValidKey } from './accept-key.js';
import { parseExtensions, type ParsedExtension } from './extensions.js';
import { parseResponseHead } from './http-head.js';
import { isToken, listContainsToken } from './http-token.js';

/**
 * The client role of the opening handshake (RFC 6455 §4.1), for our load
 * generator and tests: build the request, then check the server's response.
 */

export interface ClientRequestOptions {
  /** The Host header: `host` or `host:port` (RFC 6455 §4.1 item 4). */
  readonly host: string;
  /** The request target, origin-form: `/path?query` (item 3). */
  readonly path: string;
  /** From generateKey() (item 7). */
  readonly key: string;
  /** Offered subprotocols, most preferred first (item 10). */
  readonly protocols?: readonly string[] | undefined;
  /** An already-serialized Sec-WebSocket-Extensions value (item 11, syntax of RFC 6455 §9.1). */
  readonly extensions?: string | undefined;
  /** Sent as Origin when given (item 8). */
  readonly origin?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** Headers the request writes itself. */
const OWNED: ReadonlySet<string> = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'origin',
  'content-length',
  'transfer-encoding',
]);

/** No CTLs, nothing above latin1: a value that cannot split the request. */
function isSafeFieldValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** Visible ASCII only (RFC 3986). */
function isSafeTarget(v: string): boolean {
  if (v.charCodeAt(0) !== 0x2f) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/**
 * The opening handshake request (RFC 6455 §4.1), as a latin1 string ending in
 * CRLFCRLF. Throws a TypeError on options that would produce an invalid or
 * split request: they come from our own code.
 */
export function buildClientRequest(options: ClientRequestOptions): string {
  const { host, path, key, protocols, extensions, origin, headers } = options;
  if (!isSafeTarget(path)) throw new TypeError(`path must be origin-form visible ASCII: ${JSON.stringify(path)}`);
  if (host.length === 0 || !isSafeFieldValue(host) || host.includes(' '))
    throw new TypeError(`invalid host: ${JSON.stringify(host)}`);
  if (!isValidKey(key)) throw new TypeError('key must be 16 bytes, base64-encoded (use generateKey())');
  let out = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (origin !== undefined) {
    if (!isSafeFieldValue(origin)) throw new TypeError('invalid origin');
    out += `Origin: ${origin}\r\n`;
  }
  if (protocols !== undefined && protocols.length > 0) {
    for (let i = 0; i < protocols.length; i++) {
      const p = protocols[i]!;
      if (!isToken(p)) throw new TypeError(`subprotocol is not a token: ${JSON.stringify(p)}`);
      if (protocols.indexOf(p) !== i) throw new TypeError(`repeated subprotocol: ${p}`);
    }
    out += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;
  }
  if (extensions !== undefined && extensions.length > 0) {
    if (!isSafeFieldValue(extensions)) throw new TypeError('invalid extensions value');
    out += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  }
  if (headers !== undefined) {
    for (const [name, value] of Object.entries(headers)) {
      if (!isToken(name) || OWNED.has(name.toLowerCase()))
        throw new TypeError(`invalid or reserved header name: ${JSON.stringify(name)}`);
      if (!isSafeFieldValue(value)) throw new TypeError(`invalid value for header ${name}`);
      out += `${name}: ${value}\r\n`;
    }
  }
  return `${out}\r\n`;
}

/** What was wrong with the server's response (RFC 6455 §4.1, the client's checks 1–6). */
export type ClientHandshakeErrorKind =
  | 'MalformedResponse'
  | 'UnexpectedStatus'
  | 'InvalidUpgrade'
  | 'InvalidConnection'
  | 'InvalidAccept'
  | 'UnexpectedExtension'
  | 'UnexpectedProtocol';

/** The client must fail the WebSocket connection (§4.1): which check failed, and the status received. */
export class ClientHandshakeError extends Error {
  readonly kind: ClientHandshakeErrorKind;
  /** The response status code, 0 when the status line did not parse. */
  readonly statusCode: number;

  constructor(kind: ClientHandshakeErrorKind, message: string, statusCode: number) {
    super(message);
    this.name = 'ClientHandshakeError';
    this.kind = kind;
    this.statusCode = statusCode;
  }
}

export interface ClientHandshakeExpectation {
  /** The key that was sent. */
  readonly key: string;
  /** The subprotocols that were offered; the server may pick one of them or none. */
  readonly protocols?: readonly string[] | undefined;
  /** The Sec-WebSocket-Extensions value that was offered, if any. */
  readonly extensions?: string | undefined;
}

export type ClientHandshakeResult =
  | {
      readonly ok: true;
      /** The subprotocol the server selected, undefined when none. */
      readonly protocol: string | undefined;
      /** The extensions the server accepted, with their parameters, in its order. */
      readonly extensions: ParsedExtension[];
      /** Lower-case names; repeats joined with `', '`. */
      readonly headers: ReadonlyMap<string, string>;
    }
  | { readonly ok: false; readonly error: ClientHandshakeError };

/** Fields the response must not repeat (RFC 6455 §11.3.3 Sec-WebSocket-Accept, §11.3.4 Sec-WebSocket-Protocol in a response). */
const RESPONSE_SINGLETONS: ReadonlySet<string> = new Set(['sec-websocket-accept', 'sec-websocket-protocol']);

function fail(kind: ClientHandshakeErrorKind, message: string, statusCode: number): ClientHandshakeResult {
  return { ok: false, error: new ClientHandshakeError(kind, message, statusCode) };
}

/**
 * Check the server's response head `buf[start, headEnd)` (headEnd from
 * findHeadEnd; any frame bytes after it are not touched). Never throws on the
 * response bytes; a failure is returned as a ClientHandshakeError.
 */
export function validateServerResponse(
  buf: Uint8Array,
  start: number,
  headEnd: number,
  expected: ClientHandshakeExpectation,
): ClientHandshakeResult {
  const head = parseResponseHead(buf, start, headEnd, RESPONSE_SINGLETONS);
  if (!head.ok) return fail('MalformedResponse', head.message, 0);
  const status = head.statusCode;
  // §4.1 item 1: anything but 101 means the handshake did not complete.
  if (status !== 101)
    return fail('UnexpectedStatus', `expected status 101, got ${status} ${head.reason} (RFC 6455 §4.1)`, status);
  const headers = head.headers;
  // Items 2 and 3.
  const upgrade = headers.get('upgrade');
  if (upgrade === undefined || !listContainsToken(upgrade, 'websocket'))
    return fail('InvalidUpgrade', 'missing or invalid Upgrade header (RFC 6455 §4.1)', status);
  const connection = headers.get('connection');
  if (connection === undefined || !listContainsToken(connection, 'upgrade'))
    return fail('InvalidConnection', 'missing or invalid Connection header (RFC 6455 §4.1)', status);
  // Item 4: base64 is case-sensitive, so this is an exact comparison.
  if (headers.get('sec-websocket-accept') !== acceptKey(expected.key))
    return fail('InvalidAccept', 'missing or wrong Sec-WebSocket-Accept (RFC 6455 §4.1)', status);

  // Item 5: only extensions that were offered, each at most once.
  let extensions: ParsedExtension[] = [];
  const extensionHeader = headers.get('sec-websocket-extensions');
  if (extensionHeader !== undefined) {
    const parsed = parseExtensions(extensionHeader);
    if (!parsed.ok) return fail('UnexpectedExtension', parsed.message, status);
    const offered = expected.extensions === undefined ? undefined : parseExtensions(expected.extensions);
    const offeredNames = offered?.ok === true ? offered.extensions.map((e) => e.name) : [];
    const accepted: string[] = [];
    for (const e of parsed.extensions) {
      if (!offeredNames.includes(e.name))
        return fail(
          'UnexpectedExtension',
          `server accepted extension ${e.name}, which was not offered (RFC 6455 §4.1)`,
          status,
        );
      if (accepted.includes(e.name))
        return fail('UnexpectedExtension', `server accepted extension ${e.name} twice (RFC 6455 §9.1)`, status);
      accepted.push(e.name);
    }
    extensions = parsed.extensions;
  }

  // Item 6: a single token, one of those offered; none when none were offered.
  const protocol = headers.get('sec-websocket-protocol');
  if (protocol !== undefined) {
    const offered = expected.protocols ?? [];
    if (!isToken(protocol) || !offered.includes(protocol)) {
      return fail(
        'UnexpectedProtocol',
        `server selected subprotocol ${JSON.stringify(protocol)}, which was not offered (RFC 6455 §4.1)`,
        status,
      );
    }
  }
  return { ok: true, protocol, extensions, headers };
}
