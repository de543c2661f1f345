import { Rsv } from './frame-header.js';
import { isControlOpcode, Opcode } from './opcode.js';
import { ErrorKind, type ErrorKindValue } from './protocol-error.js';
import type { ReceiveProgress } from './receive-progress.js';

/**
 * The rules a frame's header is held to against the message it belongs to:
 * fragment order (RFC 6455 §5.4), where RSV1 may appear (RFC 7692 §6), the
 * message size and the fragment policy. Checked as soon as a header is known,
 * before any of its payload is buffered.
 */

/** Fragments any message may have before minFragmentSize applies. */
export const FREE_FRAGMENTS = 1024;

/** What the sequence rules need from the receiver's configuration. */
export interface SequenceLimits {
  readonly maxPayloadLength: number;
  readonly minFragmentSize: number;
}

/** §5.4 ordering rules and the message limits, checked as soon as a header is known. */
export function checkSequence(
  progress: ReceiveProgress | null,
  opcode: number,
  rsv: number,
  payloadLength: number,
  config: SequenceLimits,
): ErrorKindValue | 0 {
  // RFC 7692 §6: RSV1 ("Per-Message Compressed") marks a message's first frame only; never a control or continuation frame.
  if ((rsv & Rsv.One) !== 0 && (opcode === Opcode.Continuation || isControlOpcode(opcode)))
    return ErrorKind.MisplacedRsv1;
  if (isControlOpcode(opcode)) return 0; // control frames may interleave with fragments (§5.4)
  const open = progress !== null && progress.messageOpcode !== 0;
  if (opcode !== Opcode.Continuation) return open ? ErrorKind.ExpectedContinuation : 0;
  if (!open) return ErrorKind.UnexpectedContinuation;
  const length = progress.messageLength + payloadLength;
  if (length > config.maxPayloadLength) return ErrorKind.MessageTooBig;
  const fragments = progress.messageFragments + 1;
  if (
    fragments > FREE_FRAGMENTS &&
    config.minFragmentSize > 0 &&
    (fragments - FREE_FRAGMENTS) * config.minFragmentSize > length
  ) {
    return ErrorKind.FragmentsTooSmall;
  }
  return 0;
}
