/**
 * A small SVG bar-chart writer for docs/benchmarks.md: horizontal bars, one
 * per server, value labels, an optional target line. No chart library: the
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
const LABEL = 170;
const ROW = 34;
const TOP = 44;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function format(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(value >= 10 ? 1 : 2);
}

export function barChart(chart: BarChart): string {
  const max = Math.max(...chart.bars.map((b) => b.value), chart.target?.value ?? 0) * 1.15 || 1;
  const plot = WIDTH - LABEL - 20;
  const height = TOP + chart.bars.length * ROW + 20;
  const x = (value: number): number => LABEL + (value / max) * plot;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(chart.title)}</text>`,
  ];
  chart.bars.forEach((bar, i) => {
    const y = TOP + i * ROW;
    const w = Math.max(1, x(bar.value) - LABEL);
    parts.push(
      `<text x="${LABEL - 8}" y="${y + 17}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${LABEL}" y="${y + 4}" width="${w.toFixed(1)}" height="${ROW - 10}" fill="${bar.ours ? '#2f6fdf' : '#9aa3ad'}"/>`,
      `<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + 17}">${escape(`${format(bar.value)} ${chart.unit}`)}</text>`,
    );
  });
  if (chart.target) {
    const tx = x(chart.target.value).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${height - 14}" stroke="#d33" stroke-dasharray="5,4"/>`,
      `<text x="${tx}" y="${height - 3}" text-anchor="middle" fill="#d33" font-size="11">${escape(chart.target.label)}</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
