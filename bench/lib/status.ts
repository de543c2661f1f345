/**
 * Progress on stderr, so stdout keeps only the results: on a terminal one line rewritten in
 * place; otherwise (a log file, CI) only the final lines, or one progress line every
 * `statusEvery` ms for a run long enough to need a sign of life.
 */
const tty = process.stderr.isTTY === true;
let everyMs = Infinity;
let lastPrinted = 0;

/** Off a terminal, also print a progress line at most every `ms` (default: never). */
export function statusEvery(ms: number): void {
  everyMs = ms;
}

/** A progress line; `final` keeps it (ends it with a newline) instead of letting the next one replace it. */
export function status(line: string, final = false): void {
  if (tty) process.stderr.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
  else if (final || Date.now() - lastPrinted >= everyMs) {
    process.stderr.write(`${line}\n`);
    lastPrinted = Date.now();
  }
}

/** `[#####.....]`: done out of total, `width` characters. */
export function bar(done: number, total: number, width = 24): string {
  const n = Math.max(0, Math.min(width, Math.round((width * done) / Math.max(1, total))));
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

/** Exits 1 after printing who failed and the stack, on a line of its own. */
export function die(who: string, error: unknown): never {
  process.stderr.write(`${tty ? '\r\x1b[K' : ''}${who}: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
}
