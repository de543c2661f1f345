/**
 * A strict parser of the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), written
 * from the format's grammar for the tests, independently of
 * src/protocol/prometheus-text.ts. It throws, naming the line, on anything
 * the format does not allow:
 *
 * - a line that is neither a sample, `# HELP`, `# TYPE`, another comment
 *   (`#` then a space or the end) nor empty; a missing final newline; CR;
 * - a metric name not `[a-zA-Z_:][a-zA-Z0-9_:]*`, a label name not
 *   `[a-zA-Z_][a-zA-Z0-9_]*` (or one starting `__`), a label repeated in a
 *   sample, an unterminated label value, an escape other than `\\`, `\"`, `\n`;
 * - a value that is not a Go float (digits, `.`, exponent, `NaN`, `+Inf`,
 *   `-Inf`), a timestamp that is not an integer;
 * - a second TYPE or HELP for a name, a TYPE after the family's first sample,
 *   an unknown type, a HELP escape other than `\\` and `\n`;
 * - a family's samples not all together (another family between them), a
 *   sample whose name does not belong to its family's type (a counter's or
 *   gauge's samples carry the family name itself), the same series twice.
 */

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface ParsedFamily {
  name: string;
  type: FamilyType;
  help: string | undefined;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const SUFFIXES: Readonly<Record<FamilyType, readonly string[]>> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

class ParseError extends Error {
  constructor(line: number, text: string, why: string) {
    super(`line ${line}: ${why}: ${JSON.stringify(text)}`);
  }
}

function parseValue(text: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!FLOAT.test(text)) throw new Error(`not a float: ${text}`);
  return Number(text);
}

/** `\\` and `\n` (HELP), plus `\"` (label values); anything else after a backslash is an error. */
function unescape(text: string, quote: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === '"' && quote) out += '"';
    else throw new Error(`bad escape \\${next ?? ''}`);
  }
  return out;
}

/** The sample line's parts, or a thrown reason. */
function parseSample(line: string): ParsedSample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined) throw new Error('no metric name');
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const label = LABEL_NAME.exec(line.slice(i))?.[0];
      if (label === undefined) throw new Error('bad label name');
      if (label.startsWith('__')) throw new Error(`reserved label name ${label}`);
      if (label in labels) throw new Error(`label ${label} twice`);
      i += label.length;
      if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`label ${label} without ="`);
      i += 2;
      let raw = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          raw += c + (line[i + 1] ?? '');
          i += 2;
          continue;
        }
        raw += c;
        i++;
      }
      labels[label] = unescape(raw, true);
      i++; // the closing quote
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error('expected , or } after a label');
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error('expected a space before the value');
  const rest = line.slice(i + 1).split(' ');
  if (rest.length > 2 || rest.some((part) => part === '')) throw new Error('expected a value and at most a timestamp');
  const sample: ParsedSample = { name, labels, value: parseValue(rest[0]!) };
  if (rest[1] !== undefined) {
    if (!/^-?\d+$/.test(rest[1])) throw new Error('timestamp is not an integer');
    sample.timestamp = Number(rest[1]);
  }
  return sample;
}

/** Parses a whole exposition; families in the order they appear. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text.includes('\r')) throw new Error('CR in the exposition');
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: ParsedFamily | undefined;
  const lines = text.split('\n').slice(0, -1);
  const family = (name: string): ParsedFamily => {
    let found = families.get(name);
    if (found === undefined) {
      found = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, found);
    }
    return found;
  };
  lines.forEach((line, index) => {
    const n = index + 1;
    try {
      if (line === '') return;
      if (line.startsWith('#')) {
        const match = /^# (HELP|TYPE) ([^ ]+)(?: (.*))?$/.exec(line);
        if (match === null) {
          if (line !== '#' && !line.startsWith('# ')) throw new Error('a comment is # then a space');
          return; // another comment
        }
        const [, keyword, name, rest] = match;
        if (!METRIC_NAME.test(name!) || METRIC_NAME.exec(name!)![0] !== name) throw new Error('bad metric name');
        const f = family(name);
        if (finished.has(name) || f.samples.length > 0) throw new Error(`${keyword} after the samples of ${name}`);
        if (keyword === 'TYPE') {
          if ((f as { typed?: boolean }).typed) throw new Error(`second TYPE for ${name}`);
          if (rest === undefined || !TYPES.includes(rest)) throw new Error(`unknown type ${rest}`);
          f.type = rest as FamilyType;
          (f as { typed?: boolean }).typed = true;
        } else {
          if (f.help !== undefined) throw new Error(`second HELP for ${name}`);
          f.help = unescape(rest ?? '', false);
        }
        return;
      }
      const sample = parseSample(line);
      // The family a sample belongs to: its name, or its name without a suffix its family's type allows.
      const owner =
        [...families.values()].find((f) => SUFFIXES[f.type].some((suffix) => sample.name === f.name + suffix)) ??
        family(sample.name);
      if (finished.has(owner.name)) throw new Error(`samples of ${owner.name} are not all together`);
      if (current !== undefined && current !== owner) finished.add(current.name);
      current = owner;
      const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
      if (series.has(key)) throw new Error('the same series twice');
      series.add(key);
      owner.samples.push(sample);
    } catch (error) {
      throw new ParseError(n, line, (error as Error).message);
    }
  });
  for (const f of families.values()) delete (f as { typed?: boolean }).typed;
  return families;
}

/** The key of a sample's series, for comparing two scrapes. */
export function seriesKey(sample: ParsedSample): string {
  return `${sample.name}{${Object.entries(sample.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}
