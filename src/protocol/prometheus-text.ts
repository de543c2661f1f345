/**
 * The Prometheus text exposition format, version 0.0.4: what a `/metrics`
 * endpoint answers and `Content-Type: text/plain; version=0.0.4` names.
 *
 * A metric family is its `# HELP` and `# TYPE` lines, then its samples, one
 * per line: `name{label="value",...} value`. Metric names match
 * `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*` (and may
 * not start with `__`, which Prometheus keeps for itself); label values
 * escape backslash, double quote and newline; HELP text escapes backslash and
 * newline. Values are Go floats: integers as digits, `NaN`, `+Inf`, `-Inf`.
 *
 * Pure formatting: names come from our own code, so a bad one throws (a bug);
 * label values may come from anywhere and are escaped.
 */

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge';

export interface Sample {
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value inside its double quotes (escaped \\, \" and \n). */
export function escapeLabelValue(value: string): string {
  let out = '';
  let run = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const escaped = c === 0x5c ? '\\\\' : c === 0x22 ? '\\"' : c === 0x0a ? '\\n' : undefined;
    if (escaped === undefined) continue;
    out += value.slice(run, i) + escaped;
    run = i + 1;
  }
  return run === 0 ? value : out + value.slice(run);
}

/** HELP text: backslash and newline escaped. */
function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

/** A sample value as the format writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelSet(labels: Readonly<Record<string, string>> | undefined): string {
  if (labels === undefined) return '';
  let out = '';
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__'))
      throw new TypeError(`invalid label name ${JSON.stringify(name)}`);
    out += `${out === '' ? '' : ','}${name}="${escapeLabelValue(value)}"`;
  }
  return out === '' ? '' : `{${out}}`;
}

/** One metric family: HELP, TYPE, then every sample. A family with no sample is still declared. */
export function formatFamily(name: string, type: MetricType, help: string, samples: readonly Sample[]): string {
  if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
  let out = `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
  for (const sample of samples) out += `${name}${labelSet(sample.labels)} ${formatValue(sample.value)}\n`;
  return out;
}
