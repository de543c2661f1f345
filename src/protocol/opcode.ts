/**
 * Frame opcodes, RFC 6455 §5.2 and §11.8. Opcodes 0x3–0x7 and 0xB–0xF are
 * reserved: a peer that sends one has broken the protocol (§5.2, "fail the
 * WebSocket connection").
 */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

export type OpcodeValue = (typeof Opcode)[keyof typeof Opcode];

/** Control frames have the high bit of the opcode set (§5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** True for the six opcodes RFC 6455 defines; false for the reserved ones. */
export function isKnownOpcode(opcode: number): boolean {
  return opcode <= Opcode.Binary || (opcode >= Opcode.Close && opcode <= Opcode.Pong);
}
