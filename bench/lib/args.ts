/**
 * parseArgs for the benchmark scripts: `--help` (or `-h`) prints the script's usage, its header
 * comment followed by its options with their defaults, and exits 0 before anything starts; a
 * mistake (an unknown option, a missing value) prints one line and exits 2, not parseArgs's stack
 * trace (issue #20, case 10).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Option = NonNullable<ParseArgsConfig['options']>[string];

/** The first block comment of the script (its compiled form keeps it), without the comment marks. */
function headerOf(file: string): string {
  const match = /\/\*\*?([\s\S]*?)\*\//.exec(readFileSync(file, 'utf8'));
  if (match === null) return '';
  return match[1]!
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/** One line per option: `--name VALUE` (or a flag), and its default when it has one. */
function optionLines(options: Readonly<Record<string, Option>>): string[] {
  const lines = Object.entries(options).map(([name, option]) => {
    const left = `${option.short === undefined ? '    ' : `-${option.short}, `}--${name}${option.type === 'string' ? ' VALUE' : ''}`;
    const value = option.default;
    const shown =
      value === undefined || value === false || value === ''
        ? ''
        : `default ${Array.isArray(value) ? value.join(',') : String(value)}`;
    return [left, shown] as const;
  });
  const width = Math.max(...lines.map(([left]) => left.length)) + 2;
  return lines.map(([left, shown]) => `  ${left.padEnd(width)}${shown}`.trimEnd());
}

/**
 * `parseArgs(config)` for the script at `scriptUrl` (its `import.meta.url`), with `--help` added.
 * `positionals` names what goes before the options in the usage line (profile's `doctor|flame|...`).
 */
export function benchArgs<const T extends ParseArgsConfig>(
  scriptUrl: string,
  config: T,
  positionals = '',
  argv: string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<T>> {
  const file = fileURLToPath(scriptUrl);
  const name = basename(file, '.js');
  const options = { ...config.options, help: { type: 'boolean', short: 'h' } } as Record<string, Option>;
  let parsed;
  try {
    parsed = parseArgs({ ...config, args: argv, options });
  } catch (error) {
    // The first sentence: parseArgs goes on about `--` for positionals, which no script here takes as options.
    const message = (error as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    process.stderr.write(`${name}: ${message} (--help for the usage)\n`);
    process.exit(2);
  }
  if ((parsed.values as Record<string, unknown>)['help'] === true) {
    process.stdout.write(
      `${headerOf(file)}\n\nUsage: node dist/bench/${name}.js${positionals === '' ? '' : ` ${positionals}`} [options]\n\nOptions:\n` +
        `${optionLines(options).join('\n')}\n`,
    );
    process.exit(0);
  }
  return parsed as unknown as ReturnType<typeof parseArgs<T>>;
}
