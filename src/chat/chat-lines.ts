/**
 * What the chat's lines may hold. The wire is text, one line per message:
 * `nick: text` from people, `* ...` from the server: joins, leaves, renames,
 * and to one connection alone `* [you] are NICK in room ROOM` when it got
 * another name or room than it asked for (or asked for no name) and
 * `* [you] are now NICK` after `/nick` (a nickname starts with a letter or a
 * digit, so `* [` is the server's). A reader (the page, a terminal) tells
 * them apart by the start of the line, so nothing a person sends may look
 * like another line (issue #20, case 8):
 *
 * - a message is one line: line breaks and other control characters become
 *   spaces, so `hi\nbob: hello` cannot show as a second line from bob;
 *   bidirectional overrides and isolates are removed (they reorder what
 *   follows them on screen);
 * - a nickname is printable: letters, marks, digits, spaces inside, and
 *   `_ - .`; so no `* ` to pass for the server, no `:` to pass for another
 *   person (`bob: hi`), no bidi controls or zero-width characters to make two
 *   names look alike, and it starts with a letter or a digit.
 */

/** Longest nickname, in UTF-16 code units after cleaning. */
export const MAX_NICK = 24;

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators: each is one space in a line. */
// eslint-disable-next-line no-control-regex -- control characters are what this replaces
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
/** Bidirectional embeddings, overrides and isolates (LRE…RLO, LRI…PDI) and the marks ALM, LRM, RLM. */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** What a nickname may not hold: anything but letters, marks, digits, space, `_`, `-`, `.`. */
const NOT_IN_NICK = /[^\p{L}\p{M}\p{N} _.-]+/gu;

/** A message as one line: no line breaks or controls (spaces instead), no bidi controls, trimmed. */
export function oneLine(text: string): string {
  return text.replace(LINE_BREAKING, ' ').replace(BIDI_CONTROLS, '').trim();
}

/**
 * A nickname as others see it: only the characters above, runs of spaces as
 * one, starting with a letter or digit, at most MAX_NICK long; `guest-NNNN`
 * when nothing is left.
 */
export function cleanNick(raw: string | null): string {
  const nick = (raw ?? '')
    .replace(NOT_IN_NICK, '')
    .replace(/ +/g, ' ')
    .replace(/^[^\p{L}\p{N}]+/u, '')
    .slice(0, MAX_NICK)
    .trim();
  return nick === '' ? `guest-${Math.floor(1000 + Math.random() * 9000)}` : nick;
}
