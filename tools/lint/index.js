// The lint toolchain, for eslint.config.js at the root: ESLint's own rules, typescript-eslint
// with the TypeScript compiler API it needs, and ESLint's config helpers.
//
// Why a workspace of its own: the build's `tsc` is TypeScript 7 (the root's `typescript`
// devDependency), whose npm package has no JavaScript compiler API (7.0 ships none; 7.1 is to
// bring a new one). typescript-eslint 8 loads the API with require('typescript') and accepts
// typescript <6.1 (its peer range). This package depends on typescript@~6.0, the release the
// TypeScript team keeps for tools that run side by side with 7, and because the root's 7 is
// outside typescript-eslint's peer range, npm installs typescript-eslint here, next to 6.0
// (tools/lint/node_modules), where require('typescript') finds 6.0. A plain `npm ci` at the root
// installs it all (the root's "workspaces"); nothing else changes for `tsc`.
//
// One helper escapes: ts-api-utils accepts any typescript >=4.8.4, so npm hoists it to the root's
// node_modules, where require('typescript') would find 7's API-less stub. Before typescript-eslint
// loads, the root's `typescript` entry point is given this package's 6.0 in Node's require cache
// (`require.cache`, documented as writable), so every require('typescript') in the lint process
// gets the same 6.0. The build and the tests never load this file.
//
// Remove this workspace when typescript-eslint supports TypeScript 7
// (https://github.com/typescript-eslint/typescript-eslint/issues/10940): move its devDependencies
// to the root and import them directly in eslint.config.js.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const own = require.resolve('typescript');
const ts = /** @type {{ version: string }} */ (require('typescript'));
if (!/^6\./.test(ts.version))
  throw new Error(`tools/lint expected TypeScript 6.x for typescript-eslint, got ${ts.version}`);
const root = fileURLToPath(new URL('../../', import.meta.url));
const rootTypescript = createRequire(root).resolve('typescript');
const ownModule = require.cache[own];
if (rootTypescript !== own && ownModule !== undefined) require.cache[rootTypescript] = ownModule;

const { default: js } = await import('@eslint/js');
const { default: tseslint } = await import('typescript-eslint');
const { defineConfig, globalIgnores } = await import('eslint/config');

export { defineConfig, globalIgnores, js, tseslint };
