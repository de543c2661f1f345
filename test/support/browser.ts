/**
 * Headless Chromium for end-to-end tests (Debian's `chromium`, driven by
 * playwright-core, which downloads nothing): a real browser as a peer, for
 * permessage-deflate interop and for the demos. Every launch gets a fresh
 * profile directory, removed again by `close()`; a test that launches closes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.LIGHTWS_CHROMIUM ?? '/usr/bin/chromium';

/** Chromium's flags for a quiet, sandbox-free, network-free headless run (--headless and the profile come from playwright). */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Why a browser test cannot run here (undefined when it can): to skip with the reason, not fail. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set LIGHTWS_CHROMIUM)`;
}

export interface Browser {
  readonly context: BrowserContext;
  /** A new tab. */
  page(): Promise<Page>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** `ignoreHTTPSErrors`: accept the test fixtures' self-signed certificate (wss:// tests). */
export async function launchBrowser(options: { ignoreHTTPSErrors?: boolean } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'lightws-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      timeout: 60_000,
      ...(options.ignoreHTTPSErrors === true ? { ignoreHTTPSErrors: true } : {}),
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    page: () => context.newPage(),
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
