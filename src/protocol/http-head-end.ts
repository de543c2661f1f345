/**
 * Where an HTTP/1.1 message head ends in a byte stream: just past the empty
 * line after the header fields (RFC 7230 §3: `start-line *( header-field
 * CRLF ) CRLF`). Bytes after it are not part of the head: in a WebSocket
 * upgrade they may already be frames (RFC 6455 §4.1).
 *
 * Runs on every read of a handshaking connection, before anything is
 * decoded, so it only looks at bytes, and never at the same ones twice.
 */

const CR = 0x0d;
const LF = 0x0a;

/**
 * Find the end of the head: the index just past the first CRLFCRLF in
 * `buf[start, end)`, or -1 if the head is not complete yet.
 *
 * `scanFrom` is where the previous call stopped (its `end`; pass `start` on
 * the first call). It is an index into `buf` like `start` and `end`: if the
 * caller moves the pending bytes, it moves `scanFrom` by the same amount (or
 * passes `start` to rescan). Terminators that end before `scanFrom` were
 * already ruled out, so only bytes from `scanFrom - 3` on are read again: a
 * head that arrives one byte at a time costs linear work in total.
 *
 * The loop skips ahead by the length of the terminator when the current byte
 * cannot be part of one, so header text is read about one byte in four.
 */
export function findHeadEnd(buf: Uint8Array, start: number, end: number, scanFrom: number): number {
  if (end > buf.length) end = buf.length;
  // `i` is the candidate position of the terminator's last byte (the second LF).
  let i = scanFrom > start + 3 ? scanFrom : start + 3;
  while (i < end) {
    const c = buf[i];
    if (c === LF) {
      if (buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
      // This LF could still be the terminator's first LF, ending two bytes on.
      i += 2;
    } else if (c === CR) {
      // A CR is the terminator's byte 0 or 2: the next possible end is one byte on.
      i += 1;
    } else {
      // Not CR or LF: no terminator contains this byte, so none ends before i + 4.
      i += 4;
    }
  }
  return -1;
}
