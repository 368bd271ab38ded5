import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, installed by .ci/run (`apt-get install chromium`). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * For browser suites: skips them loudly when Chromium is missing locally, and fails under
 * CI=true, where .ci/run installs it.
 */
export function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  if (process.env.CI === 'true') throw new Error(`Chromium is missing at ${CHROMIUM}: CI must install it (.ci/run)`);
  console.warn(`\n  !!! SKIPPING browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium) !!!\n`);
  ctx.skip();
}

/** Headless Chromium with the flags this sandbox needs (no network beyond loopback, root). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * Where a screenshot goes: `docs/<name>` with UPDATE_SCREENSHOTS=1 (`npm run screenshots`),
 * else a temporary folder, so a test run never changes tracked files.
 */
export function screenshotPath(name: string): string {
  if (process.env.UPDATE_SCREENSHOTS === '1') return fileURLToPath(new URL(`../../docs/${name}`, import.meta.url));
  return join(mkdtempSync(join(tmpdir(), 'gateway-shots-')), name);
}
