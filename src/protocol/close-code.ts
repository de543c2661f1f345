/**
 * Close status codes, RFC 6455 §7.4 and the IANA "WebSocket Close Code Number"
 * registry (§11.7), which added 1012–1014 after the RFC.
 */
export const CloseCode = {
  NormalClosure: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved: never sent on the wire, reported when a close frame had no code. */
  NoStatusReceived: 1005,
  /** Reserved: never sent on the wire, reported when the TCP connection dropped without a close frame. */
  AbnormalClosure: 1006,
  InvalidFramePayloadData: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** Reserved: never sent on the wire (TLS handshake failure). */
  TlsHandshake: 1015,
} as const;

const NAMES: ReadonlyMap<number, string> = new Map(Object.entries(CloseCode).map(([name, code]) => [code, name]));

/** A readable name for a close code, for logs: 'MessageTooBig', 'private (4000)', ... */
export function closeCodeName(code: number): string {
  const name = NAMES.get(code);
  if (name !== undefined) return name;
  if (code >= 3000 && code <= 3999) return `registered (${code})`;
  if (code >= 4000 && code <= 4999) return `private (${code})`;
  return `invalid (${code})`;
}

/**
 * May this code appear in a close frame on the wire (§7.4.1, §7.4.2)?
 * 0–999 are unused, 1004 is reserved, 1005/1006/1015 are for reporting only,
 * 1016–2999 are reserved for future RFCs, and 5000+ is not defined.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1014) return code !== 1004 && code !== 1005 && code !== 1006;
  return code >= 3000 && code <= 4999;
}

/**
 * The close codes counted one by one in metrics: the registered range
 * 1000–1015 (§7.4.1 and the IANA registry), then one bucket per range
 * (§7.4.2: 3000–3999 for libraries and frameworks, 4000–4999 private) and
 * one for everything else. A fixed set, so counting costs an array slot each.
 */
export const CLOSE_CODE_CLASSES: readonly string[] = [
  ...Array.from({ length: 16 }, (_, i) => String(1000 + i)),
  '3000-3999',
  '4000-4999',
  'other',
];

/** The index in CLOSE_CODE_CLASSES of a close code's class. */
export function closeCodeClass(code: number): number {
  if (code >= 1000 && code <= 1015) return code - 1000;
  if (code >= 3000 && code <= 3999) return 16;
  if (code >= 4000 && code <= 4999) return 17;
  return 18;
}
