/**
 * A small SVG bar-chart writer for docs/benchmarks.md: horizontal bars, one
 * per server, value labels (the bars are scaled so that every label fits), an
 * optional target line. No chart library: the
 * output is plain SVG text that GitHub and browsers render as is.
 */
export interface Bar {
  label: string;
  value: number;
  /** Bars of the project's own servers are drawn in the accent colour. */
  ours?: boolean;
}

export interface BarChart {
  title: string;
  /** Unit shown after each value, e.g. 'B' or 'msg/CPU-s'. */
  unit: string;
  bars: readonly Bar[];
  /** A dashed vertical line at this value (a target), with its label. */
  target?: { value: number; label: string };
}

const WIDTH = 720;
/** The bar names' column; bars start at its right edge. */
const LABEL = 170;
/** Space between a bar's end and its value label, and kept clear at the right edge. */
const GAP = 6;
const RIGHT = 16;
const ROW = 34;
const TOP = 44;
const FONT = 13;

/**
 * A generous guess at the width of `text` in the chart's sans-serif font: SVG has no text
 * metrics before rendering, and the widest common fallback (DejaVu Sans, ~0.6 em a character
 * on average, 0.64 em a digit) must still fit; a narrower font only leaves more room.
 */
function textWidth(text: string, size = FONT): number {
  let em = 0;
  for (const c of text) em += /[\d]/.test(c) ? 0.64 : /[ ,.:;/()'|-]/.test(c) ? 0.36 : /[A-Z]/.test(c) ? 0.7 : 0.62;
  return em * size;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function format(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(value >= 10 ? 1 : 2);
}

export function barChart(chart: BarChart): string {
  const labels = chart.bars.map((bar) => `${format(bar.value)} ${chart.unit}`);
  // Pixels per unit: as long as the bars can be with every value label still inside the image
  // after its bar (the longest bar is not always the one with the longest label), and with the
  // target line inside the plot.
  const plot = WIDTH - RIGHT - LABEL;
  const scale = Math.min(
    ...chart.bars.map((bar, i) => (bar.value > 0 ? (plot - GAP - textWidth(labels[i]!)) / bar.value : Infinity)),
    chart.target !== undefined && chart.target.value > 0 ? plot / chart.target.value : Infinity,
  );
  const perUnit = Number.isFinite(scale) && scale > 0 ? scale : 1;
  const height = TOP + chart.bars.length * ROW + 20;
  const x = (value: number): number => LABEL + value * perUnit;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="${FONT}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(chart.title)}</text>`,
  ];
  chart.bars.forEach((bar, i) => {
    const y = TOP + i * ROW;
    const w = Math.max(1, x(bar.value) - LABEL);
    parts.push(
      `<text x="${LABEL - 8}" y="${y + 17}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${LABEL}" y="${y + 4}" width="${w.toFixed(1)}" height="${ROW - 10}" fill="${bar.ours ? '#2f6fdf' : '#9aa3ad'}"/>`,
      `<text x="${(LABEL + w + GAP).toFixed(1)}" y="${y + 17}">${escape(labels[i]!)}</text>`,
    );
  });
  if (chart.target) {
    const tx = x(chart.target.value);
    // Centred under the line, but moved in where that would cut it at either edge.
    const half = textWidth(chart.target.label, 11) / 2;
    const lx = Math.min(Math.max(tx, half + 2), WIDTH - RIGHT - half);
    parts.push(
      `<line x1="${tx.toFixed(1)}" y1="${TOP - 4}" x2="${tx.toFixed(1)}" y2="${height - 14}" stroke="#d33" stroke-dasharray="5,4"/>`,
      `<text x="${lx.toFixed(1)}" y="${height - 3}" text-anchor="middle" fill="#d33" font-size="11">${escape(chart.target.label)}</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
