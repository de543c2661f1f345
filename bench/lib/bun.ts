/**
 * Where Bun is, for the benchmarks that measure it beside ws and uWS (bench:chat, and the `bun`
 * kind of bench:echo, bench:handshake and bench:broadcast): --bun, then $BUN, then the cache
 * `npm install --prefix ~/.cache/lightws-bench/bun @oven/bun-linux-x64@1.4.4` fills (the npm
 * package ships the binary, which runs here). Undefined when none is there.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const BUN_CACHE = join(homedir(), '.cache/lightws-bench/bun/node_modules/@oven/bun-linux-x64/bin/bun');

export function findBun(explicit?: string): string | undefined {
  return [explicit, process.env['BUN'], BUN_CACHE].find((p) => p !== undefined && p !== '' && existsSync(p));
}

/** bench:idle's kinds that Bun serves (servers/idle-server.ts), run with Bun itself: `bun`, and `bun-deflate` (bench:deflate). */
export function isBunKind(kind: string): boolean {
  return kind === 'bun' || kind === 'bun-deflate';
}
