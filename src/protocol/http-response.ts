import { acceptKey } from './accept-key.js';
import { isToken } from './http-token.js';

/**
 * The server's answers to an opening handshake, as latin1 strings (one byte
 * per character, so the writer encodes them straight into its buffer): the
 * 101 that completes it (RFC 6455 §4.2.2 item 5) and the error responses that
 * refuse it (§4.2.2 item 4, RFC 7231 §6). Every value written is checked, so a header
 * from configuration cannot split the response.
 */

/**
 * Extra headers: a record, or name/value pairs when a name must repeat. A
 * number is written as its digits; an undefined value writes no field (so
 * that `{ 'Cache-Control': cached ? undefined : 'no-store' }` reads well).
 */
export type ExtraHeaders = Readonly<Record<string, string | number | undefined>> | Iterable<readonly [string, string]>;

export interface SwitchingProtocolsOptions {
  /** The client's Sec-WebSocket-Key; the accept value is computed from it. */
  readonly key: string;
  /** The selected subprotocol (§4.2.2 item 5.4); omitted when undefined. */
  readonly protocol?: string | undefined;
  /** The accepted extensions, already serialized (RFC 6455 §9.1); omitted when undefined or empty. */
  readonly extensions?: string | undefined;
  readonly headers?: ExtraHeaders | undefined;
}

/** Reason phrases (RFC 7231 §6.1, RFC 6585) for the statuses a handshake or a plain request (http-plain-response.ts) can end with. */
const REASONS: ReadonlyMap<number, string> = new Map([
  [100, 'Continue'],
  [101, 'Switching Protocols'],
  [200, 'OK'],
  [201, 'Created'],
  [202, 'Accepted'],
  [204, 'No Content'],
  [304, 'Not Modified'],
  [301, 'Moved Permanently'],
  [302, 'Found'],
  [307, 'Temporary Redirect'],
  [308, 'Permanent Redirect'],
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [408, 'Request Timeout'],
  [409, 'Conflict'],
  [410, 'Gone'],
  [411, 'Length Required'],
  [413, 'Payload Too Large'],
  [414, 'URI Too Long'],
  [415, 'Unsupported Media Type'],
  [417, 'Expectation Failed'],
  [421, 'Misdirected Request'],
  [422, 'Unprocessable Entity'],
  [426, 'Upgrade Required'],
  [429, 'Too Many Requests'],
  [431, 'Request Header Fields Too Large'],
  [500, 'Internal Server Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Gateway Timeout'],
  [505, 'HTTP Version Not Supported'],
]);

/** The reason phrase for a status, `'Unknown'` when not in our table. */
export function reasonPhrase(status: number): string {
  return REASONS.get(status) ?? 'Unknown';
}

/** Names the 101 writes itself: an extra header must not repeat or contradict them. */
const OWNED_BY_101: ReadonlySet<string> = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);
/** Names an error response writes itself. */
const OWNED_BY_ERROR: ReadonlySet<string> = new Set([
  'connection',
  'content-type',
  'content-length',
  'transfer-encoding',
]);

/** field-value for output: HTAB, SP, VCHAR, obs-text, nothing above 0xFF (latin1). */
function isSafeFieldValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

function* entriesOf(headers: ExtraHeaders): Iterable<readonly [string, string | number | undefined]> {
  if (Symbol.iterator in headers) yield* headers as Iterable<readonly [string, string]>;
  else yield* Object.entries(headers);
}

/**
 * Serialize extra header lines, each ending in CRLF. Throws a TypeError on a
 * name that is not a token, a value that could split the response, or a name
 * the caller's response already writes: these come from the application, not
 * the peer, and are bugs. `seen` collects the lower-case names written.
 */
export function headerLines(headers: ExtraHeaders | undefined, owned: ReadonlySet<string>, seen?: Set<string>): string {
  if (headers === undefined) return '';
  let out = '';
  for (const [name, value] of entriesOf(headers)) {
    if (value === undefined) continue;
    if (!isToken(name)) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
    const lower = name.toLowerCase();
    if (owned.has(lower)) throw new TypeError(`header ${name} is written by the server itself`);
    const text = String(value);
    if (!isSafeFieldValue(text)) throw new TypeError(`invalid value for header ${name}`);
    seen?.add(lower);
    out += `${name}: ${text}\r\n`;
  }
  return out;
}

/** Every 101 up to its accept value. */
const SWITCHING_PREFIX =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ';

/** The 101 Switching Protocols response head that completes the handshake (RFC 6455 §4.2.2 item 5). */
export function buildSwitchingProtocols(options: SwitchingProtocolsOptions): string {
  const accept = acceptKey(options.key);
  // The common 101 (no subprotocol, extension or extra field): one concatenation, no intermediate heads.
  if (options.protocol === undefined && !options.extensions && options.headers === undefined)
    return `${SWITCHING_PREFIX}${accept}\r\n\r\n`;
  let head = `${SWITCHING_PREFIX}${accept}\r\n`;
  if (options.protocol !== undefined) {
    // Exactly one token: the one selected from the client's offer (§4.2.2 item 5.4).
    if (!isToken(options.protocol))
      throw new TypeError(`subprotocol is not a token: ${JSON.stringify(options.protocol)}`);
    head += `Sec-WebSocket-Protocol: ${options.protocol}\r\n`;
  }
  if (options.extensions !== undefined && options.extensions.length > 0) {
    if (!isSafeFieldValue(options.extensions)) throw new TypeError('invalid Sec-WebSocket-Extensions value');
    head += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  }
  return `${head}${headerLines(options.headers, OWNED_BY_101)}\r\n`;
}

/**
 * The body as UTF-8 bytes held one per char in a latin1 string, so the head
 * and body are written in one latin1 write and the length is the byte count.
 * Control characters become '?' so a message can never add a line.
 */
export function bodyBytes(text: string): string {
  let safe = '';
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      safe += `${text.slice(run, i)}?`;
      run = i + 1;
    }
  }
  safe += text.slice(run);
  return Buffer.from(`${safe}\n`, 'utf8').toString('latin1');
}

/**
 * An error response that refuses the handshake and ends the connection
 * (`Connection: close`): status line, `Content-Type: text/plain; charset=utf-8`,
 * `Content-Length` and a one-line body (the message, or the reason phrase).
 * 426 always carries `Sec-WebSocket-Version: 13` (RFC 6455 §4.4) and 405
 * `Allow: GET` (RFC 7231 §6.5.5), added unless `extraHeaders` has them.
 * A 3xx is accepted too (§4.2.2 item 3 lets a server redirect; pass Location).
 */
export function buildErrorResponse(status: number, message?: string, extraHeaders?: ExtraHeaders): string {
  if (!Number.isInteger(status) || status < 300 || status > 599)
    throw new RangeError(`not a 3xx, 4xx or 5xx status: ${status}`);
  const reason = reasonPhrase(status);
  const body = bodyBytes(message ?? reason);
  const seen = new Set<string>();
  let head = `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n`;
  head += headerLines(extraHeaders, OWNED_BY_ERROR, seen);
  if (status === 426 && !seen.has('sec-websocket-version')) head += 'Sec-WebSocket-Version: 13\r\n';
  if (status === 405 && !seen.has('allow')) head += 'Allow: GET\r\n';
  return `${head}\r\n${body}`;
}
