/**
 * The oracle: what a case must get (the model over the bytes after the
 * request head), and the verdict on what it got.
 */
import type { Case } from './cases.js';
import { HTTP_REFUSALS, LIMITS, type Limits } from './limits.js';
import { headEnd, model, type ModelEnd, type ModelResult } from './model.js';
import type { Observed } from './client.js';

export interface Expectation {
  /** Where the request head ends in head+body; -1 when it never does. */
  headEnd: number;
  /** The model over everything after the head, when there is a head. */
  full: ModelResult | null;
}

export function expectationOf(c: Case, limits: Limits = LIMITS): Expectation {
  let end = headEnd(c.head);
  if (end >= 0) {
    // The usual case: the head ends in the head; the frames are what is left of it, then the body.
    const stream = end === c.head.length ? c.body : Buffer.concat([c.head.subarray(end), c.body]);
    return { headEnd: end, full: model(stream, limits) };
  }
  const all = Buffer.concat([c.head, c.body]);
  end = headEnd(all);
  return { headEnd: end, full: end < 0 ? null : model(all.subarray(end), limits) };
}

function endCodes(end: ModelEnd): number[] {
  return end.kind === 'close' ? [end.code] : end.kind === 'violation' ? end.codes : [];
}

export function describeEnd(end: ModelEnd | undefined): string {
  if (end === undefined) return 'no head';
  if (end.kind === 'close') return `close echo ${end.code}`;
  if (end.kind === 'violation') return `violation ${end.rules.join('+')} → ${end.codes.join('|')}`;
  return end.inProgress ? 'incomplete, message in progress → 1008 (slow message) or 1001' : 'incomplete → idle 1001';
}

/**
 * What went wrong in one case, judged from what was sent and what came back;
 * empty when the server behaved. Also returns how many frames reached the
 * server's frame parser (the count the long run reports).
 */
export function judge(
  c: Case,
  e: Expectation,
  obs: Observed,
  limits: Limits = LIMITS,
): { problems: string[]; frames: number } {
  const problems: string[] = [];
  if (obs.timedOut) problems.push('hang: the connection was not closed in time');
  if (obs.connectError !== null) problems.push(`connect failed: ${obs.connectError}`);
  if (obs.badFrame !== null) problems.push(`bad server output: ${obs.badFrame}`);
  if (obs.mismatch !== null) problems.push(`wrong reply: ${obs.mismatch}`);
  if (obs.framesAfterClose > 0) problems.push(`${obs.framesAfterClose} frame(s) after the server's Close`);
  if (obs.bytesAfterRefusal > 0)
    problems.push(`${obs.bytesAfterRefusal} bytes after the HTTP error response (a second response?)`);
  const total = c.head.length + c.body.length;
  const sentAll = c.ending !== 'reset' || c.resetAt >= total;
  const sentEnd = c.ending === 'reset' ? c.resetAt : total;
  const headComplete = e.headEnd >= 0 && e.headEnd <= sentEnd;
  // The model of what the server may have seen: all of it, or the prefix before a reset.
  const seen = !headComplete
    ? null
    : sentAll
      ? e.full
      : model(Buffer.concat([c.head, c.body]).subarray(e.headEnd, sentEnd), limits);
  const strict = c.ending === 'wait' && !obs.timedOut && obs.mismatch === null && obs.badFrame === null;
  let frames = 0;

  if (obs.status === null) {
    // No response: only when the head never completed (handshake timeout or EOF), or the client left first.
    const delivered = c.waitFor101 ? c.head.length : sentEnd;
    if (strict && e.headEnd >= 0 && e.headEnd <= delivered)
      problems.push('no HTTP response to a complete request head');
    else if (strict && delivered >= limits.maxHeaderSize)
      problems.push(`no 431 for ${delivered} bytes without a head end (maxHeaderSize ${limits.maxHeaderSize})`);
  } else if (obs.status !== 101) {
    if (c.headMutation === 'none') problems.push(`valid handshake refused: ${obs.responseLine}`);
    else if (!HTTP_REFUSALS.has(obs.status)) problems.push(`unexpected HTTP status: ${obs.responseLine}`);
    else if (c.expectStatus !== undefined && obs.status !== c.expectStatus)
      problems.push(`expected HTTP ${c.expectStatus} for ${c.headMutation}, got ${obs.responseLine}`);
  } else {
    if (c.expectStatus !== undefined) problems.push(`expected HTTP ${c.expectStatus} for ${c.headMutation}, got 101`);
    if (!headComplete || seen === null) problems.push('101 for an incomplete request head');
    else {
      if (c.headMutation === 'none' && obs.acceptValid !== true) problems.push('wrong Sec-WebSocket-Accept');
      frames = seen.frames;
      const want = seen.end;
      if (strict) {
        if (obs.replies !== seen.replies.length)
          problems.push(`${obs.replies} of ${seen.replies.length} replies arrived`);
        const codes = want.kind === 'incomplete' ? (want.inProgress ? [1008, 1001] : [1001]) : endCodes(want);
        if (obs.closeCode === null) problems.push(`no Close frame (expected ${describeEnd(want)})`);
        else if (!codes.includes(obs.closeCode))
          problems.push(`close code ${obs.closeCode} (${obs.closeReason}), expected ${describeEnd(want)}`);
      } else if (obs.closeCode !== null && obs.mismatch === null) {
        // The client half-closed or reset: the Close is optional, but if one came it must be right.
        const codes = endCodes(want);
        if (!codes.includes(obs.closeCode))
          problems.push(
            `close code ${obs.closeCode} (${obs.closeReason}) after ${c.ending}, expected ${describeEnd(want)}`,
          );
      }
    }
  }
  // The harness checks itself: an injected violation must be the model's first one.
  if (c.expectCodes !== undefined && e.full !== null && c.headMutation === 'none') {
    const end = e.full.end;
    if (end.kind !== 'violation' || !c.expectCodes.some((code) => end.codes.includes(code))) {
      problems.push(
        `HARNESS: ${c.bodyKind} should fail with ${c.expectCodes.join('|')}, the model says ${describeEnd(end)}`,
      );
    }
  }
  return { problems, frames };
}
