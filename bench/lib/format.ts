/** How benchmark figures are printed: sizes, rates, ratios, and aligned plain-text tables. */

/** 16 B, 1 KiB, 64 KiB, 1 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} B`;
}

/** '3.65 GiB'. */
export function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** Throughput in decimal gigabytes per second, e.g. '6.12 GB/s'. */
export function formatGBps(bytesPerSec: number): string {
  return `${(bytesPerSec / 1e9).toFixed(bytesPerSec < 1e8 ? 3 : 2)} GB/s`;
}

/** A ratio, e.g. '3.41×'; '-' when there is none (NaN: the reference server did not run). */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '-';
  return `${ratio.toFixed(ratio < 10 ? 2 : 1)}×`;
}

type Cell = string | number;
/** An aligned plain-text table: text columns left-aligned, numbers right-aligned. */
export function formatTable(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => columns.map((_, c) => String(row[c] ?? '')));
  const widths = columns.map((name, c) => Math.max(name.length, ...text.map((row) => row[c]!.length)));
  // A column whose first cell starts with a digit is numeric-looking: right-align it.
  const right = columns.map((_, c) => /^[\d.]/.test(text[0]?.[c] ?? ''));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (right[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

export function printTable(columns: readonly string[], rows: readonly (readonly Cell[])[]): void {
  console.log(formatTable(columns, rows));
}
