import { CloseCode } from './close-code.js';

/**
 * Every way a peer can break the protocol, each with the close code that the
 * connection must be failed with. The decoder reports these as small integers
 * on the hot path (no allocation, no throw); a ProtocolError object is built
 * only when a connection is actually failed.
 */
export const ErrorKind = {
  UnmaskedClientFrame: 1,
  MaskedServerFrame: 2,
  ReservedBitsSet: 3,
  ReservedOpcode: 4,
  ControlFrameTooLong: 5,
  FragmentedControlFrame: 6,
  UnexpectedContinuation: 7,
  ExpectedContinuation: 8,
  PayloadLengthTooLarge: 9,
  MessageTooBig: 10,
  InvalidUtf8: 11,
  InvalidCloseLength: 12,
  InvalidCloseCode: 13,
  InvalidCloseReasonUtf8: 14,
  FragmentsTooSmall: 15,
  /** Not a protocol rule: the server's memory budget could not lend a buffer for this peer. */
  MemoryBudgetExceeded: 16,
  /** RSV1 ("Per-Message Compressed") on a control frame or a continuation frame (RFC 7692 §6). */
  MisplacedRsv1: 17,
  /** A compressed message that does not inflate (RFC 7692 §7.2.2). */
  InvalidCompressedData: 18,
} as const;

export type ErrorKindValue = (typeof ErrorKind)[keyof typeof ErrorKind];

interface ErrorInfo {
  readonly name: string;
  readonly closeCode: number;
  readonly message: string;
  /** The section that the rule comes from: of RFC 6455 unless `rfc` says otherwise. */
  readonly section: string;
  readonly rfc?: string;
}

const INFO: Readonly<Record<number, ErrorInfo>> = {
  [ErrorKind.UnmaskedClientFrame]: {
    name: 'UnmaskedClientFrame',
    closeCode: CloseCode.ProtocolError,
    message: 'client frame is not masked',
    section: '5.1',
  },
  [ErrorKind.MaskedServerFrame]: {
    name: 'MaskedServerFrame',
    closeCode: CloseCode.ProtocolError,
    message: 'server frame is masked',
    section: '5.1',
  },
  [ErrorKind.ReservedBitsSet]: {
    name: 'ReservedBitsSet',
    closeCode: CloseCode.ProtocolError,
    message: 'RSV bits set without a negotiated extension',
    section: '5.2',
  },
  [ErrorKind.ReservedOpcode]: {
    name: 'ReservedOpcode',
    closeCode: CloseCode.ProtocolError,
    message: 'reserved opcode',
    section: '5.2',
  },
  [ErrorKind.ControlFrameTooLong]: {
    name: 'ControlFrameTooLong',
    closeCode: CloseCode.ProtocolError,
    message: 'control frame payload over 125 bytes',
    section: '5.5',
  },
  [ErrorKind.FragmentedControlFrame]: {
    name: 'FragmentedControlFrame',
    closeCode: CloseCode.ProtocolError,
    message: 'fragmented control frame',
    section: '5.5',
  },
  [ErrorKind.UnexpectedContinuation]: {
    name: 'UnexpectedContinuation',
    closeCode: CloseCode.ProtocolError,
    message: 'continuation frame without a message in progress',
    section: '5.4',
  },
  [ErrorKind.ExpectedContinuation]: {
    name: 'ExpectedContinuation',
    closeCode: CloseCode.ProtocolError,
    message: 'new data frame inside a fragmented message',
    section: '5.4',
  },
  [ErrorKind.PayloadLengthTooLarge]: {
    name: 'PayloadLengthTooLarge',
    closeCode: CloseCode.MessageTooBig,
    message: '64-bit payload length has its most significant bit set',
    section: '5.2',
  },
  [ErrorKind.MessageTooBig]: {
    name: 'MessageTooBig',
    closeCode: CloseCode.MessageTooBig,
    message: 'message exceeds maxMessageSize',
    section: '10.4',
  },
  [ErrorKind.InvalidUtf8]: {
    name: 'InvalidUtf8',
    closeCode: CloseCode.InvalidFramePayloadData,
    message: 'text message is not valid UTF-8',
    section: '8.1',
  },
  [ErrorKind.InvalidCloseLength]: {
    name: 'InvalidCloseLength',
    closeCode: CloseCode.ProtocolError,
    message: 'close frame payload of 1 byte',
    section: '5.5.1',
  },
  [ErrorKind.InvalidCloseCode]: {
    name: 'InvalidCloseCode',
    closeCode: CloseCode.ProtocolError,
    message: 'invalid close code',
    section: '7.4.1',
  },
  [ErrorKind.InvalidCloseReasonUtf8]: {
    name: 'InvalidCloseReasonUtf8',
    closeCode: CloseCode.InvalidFramePayloadData,
    message: 'close reason is not valid UTF-8',
    section: '5.5.1',
  },
  [ErrorKind.MemoryBudgetExceeded]: {
    name: 'MemoryBudgetExceeded',
    closeCode: CloseCode.TryAgainLater,
    message: 'server memory budget exceeded',
    section: '7.4.1',
  },
  [ErrorKind.MisplacedRsv1]: {
    name: 'MisplacedRsv1',
    closeCode: CloseCode.ProtocolError,
    message: 'RSV1 set on a control or continuation frame',
    section: '6',
    rfc: 'RFC 7692',
  },
  [ErrorKind.InvalidCompressedData]: {
    name: 'InvalidCompressedData',
    closeCode: CloseCode.InvalidFramePayloadData,
    message: 'compressed message does not inflate',
    section: '7.2.2',
    rfc: 'RFC 7692',
  },
  [ErrorKind.FragmentsTooSmall]: {
    name: 'FragmentsTooSmall',
    closeCode: CloseCode.PolicyViolation,
    message: 'message fragments average under minFragmentSize bytes',
    section: '10.4',
  },
};

/** Why a connection was failed: a named rule, its close code and the RFC section. */
export class ProtocolError extends Error {
  readonly kind: ErrorKindValue;
  readonly closeCode: number;
  readonly section: string;

  constructor(kind: ErrorKindValue) {
    const info = INFO[kind]!;
    super(`${info.message} (${info.rfc ?? 'RFC 6455'} §${info.section})`);
    this.name = info.name;
    this.kind = kind;
    this.closeCode = info.closeCode;
    this.section = info.section;
  }
}

/** The close code for an error kind, without building an Error. */
export function closeCodeFor(kind: ErrorKindValue): number {
  return INFO[kind]!.closeCode;
}

/** The short reason text sent in the close frame (fits in 123 bytes). */
export function reasonFor(kind: ErrorKindValue): string {
  return INFO[kind]!.message;
}

/** The rule's name ('InvalidUtf8', ...), for logs and metric labels, without building an Error. */
export function errorKindName(kind: ErrorKindValue): string {
  return INFO[kind]!.name;
}
