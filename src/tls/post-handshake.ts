import { AlertDescription } from './alert.js';
import type { RecordFault } from './record-protection.js';

/** HandshakeType values that may arrive after the handshake (RFC 8446 §4, §4.6). */
export const HandshakeType = {
  new_session_ticket: 4,
  certificate_request: 13,
  key_update: 24,
} as const;

/** Handshake header: msg_type(1) length(3) (§4). */
export const HANDSHAKE_HEADER_LENGTH = 4;

/** KeyUpdateRequest (§4.6.3). */
export const KeyUpdateRequest = { update_not_requested: 0, update_requested: 1 } as const;

/** A KeyUpdate handshake message (§4.6.3). */
export function encodeKeyUpdate(requestUpdate: boolean): Buffer {
  return Buffer.of(HandshakeType.key_update, 0, 0, 1, requestUpdate ? 1 : 0);
}

/** What one post-handshake message asks of the record layer. */
export type PostHandshakeMessage =
  /** The peer changed its write keys; `requested`: it asks us to change ours (§4.6.3). */
  | { readonly kind: 'key_update'; readonly requested: boolean }
  /** A message this role may receive and has no use for (a client's NewSessionTicket, §4.6.1). */
  | { readonly kind: 'ignored' };

/**
 * One whole post-handshake message (header and body). The server role
 * accepts only KeyUpdate: it sends no CertificateRequest (no post-handshake
 * auth) and a client never sends NewSessionTicket. The client role also
 * takes NewSessionTicket, which it does not store (no resumption on this
 * path). Everything else is unexpected_message (§4.6).
 */
export function readPostHandshake(message: Uint8Array, role: 'server' | 'client'): PostHandshakeMessage | RecordFault {
  const type = message[0]!;
  const length = message.length - HANDSHAKE_HEADER_LENGTH;
  if (type === HandshakeType.key_update) {
    if (length !== 1) return { alert: AlertDescription.decode_error, reason: 'a KeyUpdate whose body is not 1 byte' };
    const request = message[HANDSHAKE_HEADER_LENGTH]!;
    if (request === KeyUpdateRequest.update_not_requested) return { kind: 'key_update', requested: false };
    if (request === KeyUpdateRequest.update_requested) return { kind: 'key_update', requested: true };
    // "If an implementation receives any other value, it MUST terminate the
    // connection with an "illegal_parameter" alert." (§4.6.3)
    return { alert: AlertDescription.illegal_parameter, reason: `a KeyUpdate with request_update ${request}` };
  }
  if (type === HandshakeType.new_session_ticket && role === 'client') return { kind: 'ignored' };
  return { alert: AlertDescription.unexpected_message, reason: `a post-handshake message of type ${type}` };
}
