import { formatExtension, type ParsedExtension } from './extensions.js';

/**
 * Negotiating the permessage-deflate extension, RFC 7692 §5 and §7.1: which
 * offer a server accepts and what it answers, what a client offers and
 * whether the server's answer is one it may accept. Pure: what the parameters
 * mean for zlib is the caller's business (src/compression).
 */

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** What both ends agreed, for each direction (RFC 7692 §7.1). Window bits default to 15. */
export interface DeflateAgreement {
  /** §7.1.1.1: the server starts every message with an empty LZ77 window. */
  readonly serverNoContextTakeover: boolean;
  /** §7.1.1.2: the client starts every message with an empty LZ77 window. */
  readonly clientNoContextTakeover: boolean;
  /** §7.1.2.1: the largest LZ77 window the server compresses with (8–15). */
  readonly serverMaxWindowBits: number;
  /** §7.1.2.2: the largest LZ77 window the client compresses with (8–15). */
  readonly clientMaxWindowBits: number;
}

/**
 * What this endpoint wants from the negotiation.
 * - `noContextTakeover`: both directions without context takeover, so one
 *   compressor and one decompressor serve every connection (lightws `shared`).
 * - otherwise context takeover with a window of at most `windowBits` (9–15) in
 *   each direction that the peer lets us bound (lightws `window`).
 */
export interface DeflatePolicy {
  readonly noContextTakeover: boolean;
  /** 9–15: zlib cannot compress with an 8-bit window (it silently uses 9). */
  readonly windowBits: number;
}

/** The 4 octets a sync flush ends with; stripped by the sender, appended by the receiver (§7.2.1, §7.2.2). */
export const DEFLATE_TAIL: Readonly<Uint8Array> = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

const PARAMS: ReadonlySet<string> = new Set([
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
]);

/**
 * A window-bits value: "a decimal integer value without leading zeroes
 * between 8 to 15, inclusive" (§7.1.2.1, §7.1.2.2), or NaN. A quoted value
 * arrives unquoted from the parser (RFC 6455 §9.1 allows either form).
 */
function windowBitsOf(value: string | true): number {
  if (value === true || value.length === 0 || value.length > 2) return NaN;
  if (value.length === 2 && value.charCodeAt(0) === 0x30) return NaN;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return NaN;
  }
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : NaN;
}

/** The parameters of one offer or response, checked; undefined when any is unknown, repeated or invalid (§7). */
interface Checked {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** 0 when absent. */
  serverMaxWindowBits: number;
  /** 0 when absent, -1 when present without a value (offers only). */
  clientMaxWindowBits: number;
}

function check(ext: ParsedExtension, isOffer: boolean): Checked | undefined {
  // §7: "an extension parameter not defined", "multiple extension parameters with the same name"
  if (ext.hasDuplicateParam) return undefined;
  const out: Checked = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 0,
    clientMaxWindowBits: 0,
  };
  for (const [name, value] of ext.params) {
    if (!PARAMS.has(name)) return undefined;
    if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
      if (value !== true) return undefined; // §7.1.1: "This extension parameter has no value."
      if (name === 'server_no_context_takeover') out.serverNoContextTakeover = true;
      else out.clientNoContextTakeover = true;
    } else if (name === 'server_max_window_bits') {
      const bits = windowBitsOf(value);
      if (Number.isNaN(bits)) return undefined; // §7.1.2.1: a value is required and must be 8–15
      out.serverMaxWindowBits = bits;
    } else {
      // §7.1.2.2: in an offer the value is optional; in a response it is required.
      const bits = value === true && isOffer ? -1 : windowBitsOf(value);
      if (Number.isNaN(bits)) return undefined;
      out.clientMaxWindowBits = bits;
    }
  }
  return out;
}

/** The server's choice: the agreement and the Sec-WebSocket-Extensions value that says it. */
export interface DeflateAcceptance {
  readonly agreement: DeflateAgreement;
  readonly response: string;
}

/**
 * The server side (§5, §7.1): the first permessage-deflate offer this policy
 * can accept, or undefined. An offer with an unknown, repeated or invalid
 * parameter is declined and the next one tried (§7: "the server MUST decline
 * an extension negotiation offer..."), never the handshake.
 */
export function acceptDeflateOffer(
  offers: readonly ParsedExtension[],
  policy: DeflatePolicy,
): DeflateAcceptance | undefined {
  for (const offer of offers) {
    if (offer.name.toLowerCase() !== PERMESSAGE_DEFLATE) continue;
    const p = check(offer, true);
    if (p === undefined) continue;
    // §7.1.2.1: we must compress with a window of at most the offered size; zlib's smallest is 9.
    if (p.serverMaxWindowBits === 8) continue;
    const params = new Map<string, string | true>();
    // §7.1.1.1: a server MAY include server_no_context_takeover even when not offered; it MUST when offered.
    const serverNoContextTakeover = policy.noContextTakeover || p.serverNoContextTakeover;
    if (serverNoContextTakeover) params.set('server_no_context_takeover', true);
    // §7.1.1.2: a server MAY include client_no_context_takeover whatever the offer says, and the client
    // MUST then not use context takeover. Also in window mode when the client cannot be told a smaller
    // window (no client_max_window_bits offered): then its 32 KiB window would cost us an inflater of
    // that size, so that direction goes without context takeover instead.
    const clientNoContextTakeover =
      policy.noContextTakeover || p.clientNoContextTakeover || p.clientMaxWindowBits === 0;
    if (clientNoContextTakeover) params.set('client_no_context_takeover', true);
    let serverMaxWindowBits = p.serverMaxWindowBits === 0 ? 15 : p.serverMaxWindowBits;
    if (!serverNoContextTakeover) serverMaxWindowBits = Math.min(serverMaxWindowBits, policy.windowBits);
    // §7.1.2.1: accepting an offered server_max_window_bits means answering it with the same or a smaller value.
    if (p.serverMaxWindowBits !== 0 || serverMaxWindowBits < 15)
      params.set('server_max_window_bits', String(serverMaxWindowBits));
    let clientMaxWindowBits = p.clientMaxWindowBits > 0 ? p.clientMaxWindowBits : 15;
    // §7.1.2.2: only when offered may the response bound the client's window.
    if (p.clientMaxWindowBits !== 0 && !clientNoContextTakeover) {
      clientMaxWindowBits = Math.min(clientMaxWindowBits, policy.windowBits);
      params.set('client_max_window_bits', String(clientMaxWindowBits));
    }
    return {
      agreement: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits },
      response: formatExtension(PERMESSAGE_DEFLATE, params),
    };
  }
  return undefined;
}

/**
 * The client's offer (§5.1). `shared` asks the server for no context takeover
 * and promises none itself; `window` asks for a server window of at most
 * `windowBits`. Both say the server may bound our window (client_max_window_bits).
 */
export function deflateOffer(policy: DeflatePolicy): string {
  const params = new Map<string, string | true>();
  if (policy.noContextTakeover) {
    params.set('server_no_context_takeover', true);
    params.set('client_no_context_takeover', true);
  } else if (policy.windowBits < 15) {
    params.set('server_max_window_bits', String(policy.windowBits));
  }
  params.set('client_max_window_bits', true);
  return formatExtension(PERMESSAGE_DEFLATE, params);
}

/**
 * The client side (§5.1, §7.1): is the server's answer to our offer one we
 * may accept? Returns the agreement, or a message saying why the connection
 * must be failed ("_Fail the WebSocket Connection_" in §7.1.1.1–§7.1.2.2).
 */
export function acceptDeflateResponse(response: ParsedExtension, policy: DeflatePolicy): DeflateAgreement | string {
  const p = check(response, false);
  if (p === undefined)
    return 'invalid permessage-deflate response: an unknown, repeated or invalid parameter (RFC 7692 §7)';
  const offeredServerBits = !policy.noContextTakeover && policy.windowBits < 15 ? policy.windowBits : 0;
  // §7.1.1.1: an offered server_no_context_takeover is accepted only by answering it.
  if (policy.noContextTakeover && !p.serverNoContextTakeover)
    return 'the server did not accept server_no_context_takeover (RFC 7692 §7.1.1.1)';
  // §7.1.2.1: the answer may not be larger than what was offered.
  if (offeredServerBits !== 0 && (p.serverMaxWindowBits === 0 || p.serverMaxWindowBits > offeredServerBits)) {
    return 'the server did not accept server_max_window_bits (RFC 7692 §7.1.2.1)';
  }
  // zlib cannot compress with an 8-bit window (§7.1.2.2 leaves us no smaller choice): we cannot honour it.
  if (p.clientMaxWindowBits === 8) return 'client_max_window_bits=8 is not supported (zlib compresses with 9 at least)';
  return {
    serverNoContextTakeover: p.serverNoContextTakeover,
    clientNoContextTakeover: p.clientNoContextTakeover || policy.noContextTakeover,
    serverMaxWindowBits: p.serverMaxWindowBits === 0 ? 15 : p.serverMaxWindowBits,
    clientMaxWindowBits: Math.min(
      p.clientMaxWindowBits === 0 ? 15 : p.clientMaxWindowBits,
      policy.noContextTakeover ? 15 : policy.windowBits,
    ),
  };
}
