/**
 * A refused opening handshake (RFC 6455 §4.2.1, §4.1 for the client role):
 * what the head parser and the upgrade checks return instead of throwing on
 * peer-supplied bytes, so the caller can answer with the right HTTP status.
 */

/** Why a handshake was refused: the HTTP status to answer with and a short reason for the body. */
export interface HandshakeFailure {
  readonly ok: false;
  readonly status: number;
  readonly message: string;
  /** Headers the error response must carry, e.g. `Sec-WebSocket-Version: 13` on a 426 (RFC 6455 §4.4). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Build a failure; `headers` is omitted from the object when not given. */
export function failure(status: number, message: string, headers?: Readonly<Record<string, string>>): HandshakeFailure {
  return headers === undefined ? { ok: false, status, message } : { ok: false, status, message, headers };
}
