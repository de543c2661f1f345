/**
 * Alerts (RFC 8446 §6): the descriptions the record layer sends or must
 * recognise, and the two-byte Alert message.
 */
export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  illegal_parameter: 47,
  decode_error: 50,
  decrypt_error: 51,
  internal_error: 80,
  user_canceled: 90,
} as const;
export type AlertDescription = (typeof AlertDescription)[keyof typeof AlertDescription];

/** AlertLevel (§6): in TLS 1.3 only close_notify and user_canceled go as warning (§6.1, §6.2). */
export const ALERT_WARNING = 1;
export const ALERT_FATAL = 2;

/** The Alert message: level, description (§6). */
export function encodeAlert(description: AlertDescription): Buffer {
  const closure = description === AlertDescription.close_notify || description === AlertDescription.user_canceled;
  return Buffer.of(closure ? ALERT_WARNING : ALERT_FATAL, description);
}

/** What a received Alert means to the connection (§6). */
export type ReceivedAlert =
  /** close_notify: the peer will send nothing more; answer with our own close_notify (§6.1). */
  | { readonly kind: 'close' }
  /** user_canceled: a closure alert that a close_notify should follow (§6.1); nothing to do yet. */
  | { readonly kind: 'ignore' }
  /** Any other alert, whatever its level, ends the connection at once (§6.2). */
  | { readonly kind: 'error'; readonly description: number };

/**
 * A received Alert's body. Its length must be exactly 2 (the struct of §6):
 * anything else is decode_error, reported as an error the caller answers.
 */
export function readAlert(body: Uint8Array): ReceivedAlert | { readonly kind: 'malformed' } {
  if (body.length !== 2) return { kind: 'malformed' };
  const description = body[1]!;
  if (description === AlertDescription.close_notify) return { kind: 'close' };
  if (description === AlertDescription.user_canceled) return { kind: 'ignore' };
  // "Unknown Alert types MUST be treated as error alerts" and every §6.2
  // alert is an error "regardless of the AlertLevel in the message".
  return { kind: 'error', description };
}
