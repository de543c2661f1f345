import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// dist/test/support → the repository
const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** The repository's src/ directory, with its trailing slash. */
export const SRC = `${repo}src/`;

/** The repository's root directory, with its trailing slash. */
export const REPO = repo;

/** Every .ts file under src/`dir` (dir ends with '/' or is ''), as a path relative to src/, e.g. `reactor/write/writer.ts`. */
export function sourceFiles(dir = ''): string[] {
  return readdirSync(SRC + dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(`${dir}${entry.name}/`)
      : entry.name.endsWith('.ts')
        ? [`${dir}${entry.name}`]
        : [],
  );
}
