/**
 * Evidence that lightws needs no native code: what `npm pack` would publish
 * holds no compiled addon (.node), no gyp build file, no install-time script
 * (a `prepare` that compiles TypeScript for git installs is not one: npm never
 * runs it on a registry install, and it may not invoke a native toolchain),
 * and package.json declares no runtime dependency of any kind.
 *
 *   npm run check:native-free
 *
 * Exits 1 with the list of problems, 0 with a summary.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface PackEntry {
  files: { path: string; size: number }[];
}

/** Scripts npm runs on every `npm install` of the package: none may exist (they are how addons get built). */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];
/**
 * Scripts npm runs only when it builds the package from source (`npm pack`,
 * a git or directory install, never a registry install): allowed to compile
 * TypeScript, which is how a git install gets dist/, never to build native code.
 */
const BUILD_SCRIPTS = ['prepare', 'preprepare', 'postprepare', 'prepack'];
const NATIVE_BUILD = /\b(node-gyp|node-pre-gyp|prebuild(-install)?|cmake-js|cmake|make|gcc|g\+\+|clang|cc|zig)\b/;
const DEPENDENCY_FIELDS = [
  'dependencies',
  'optionalDependencies',
  'peerDependencies',
  'bundleDependencies',
  'bundledDependencies',
];

/** What is wrong with package.json's `scripts`: an install script, or a build script that compiles native code. */
export function scriptProblems(scripts: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const name of INSTALL_SCRIPTS)
    if (scripts[name] !== undefined) problems.push(`package.json has a "${name}" script`);
  for (const name of BUILD_SCRIPTS) {
    if (scripts[name] !== undefined && NATIVE_BUILD.test(scripts[name]))
      problems.push(`package.json "${name}" builds native code: ${scripts[name]}`);
  }
  return problems;
}

export function checkPackage(): { problems: string[]; files: string[] } {
  const problems: string[] = [];
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as Record<string, unknown>;
  for (const field of DEPENDENCY_FIELDS) {
    const value = pkg[field];
    const count = Array.isArray(value)
      ? value.length
      : value && typeof value === 'object'
        ? Object.keys(value).length
        : 0;
    if (count > 0) problems.push(`package.json ${field} is not empty (${count})`);
  }
  problems.push(...scriptProblems((pkg.scripts ?? {}) as Record<string, string>));
  if (pkg.gypfile === true) problems.push('package.json sets "gypfile": true');

  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const files = (JSON.parse(output) as PackEntry[])[0]!.files.map((f) => f.path);
  for (const file of files) {
    if (file.endsWith('.node')) problems.push(`packed file is a native addon: ${file}`);
    if (/(^|\/)binding\.gyp$|\.gypi?$/.test(file)) problems.push(`packed file is a gyp build file: ${file}`);
    if (/\.(c|cc|cpp|cxx|h|hpp)$/.test(file)) problems.push(`packed file is C/C++ source: ${file}`);
    if (/(^|\/)prebuilds\//.test(file)) problems.push(`packed file is a prebuilt binary: ${file}`);
  }
  if (!files.includes('dist/src/index.js'))
    problems.push('the package does not contain dist/src/index.js (run npm run build first)');
  return { problems, files };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { problems, files } = checkPackage();
  if (problems.length > 0) {
    process.stderr.write(`native-free check FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `native-free check passed: ${files.length} packed files, no .node/gyp/C sources/prebuilds, no install scripts, no native build in prepare, no runtime dependencies\n`,
  );
}
