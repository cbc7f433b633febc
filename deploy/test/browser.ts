import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Shared set-up of the console's browser tests (deploy/test/console*.test.ts): the build they serve and Debian's Chromium. */

export const DASHBOARD = fileURLToPath(new URL('../../dashboard/', import.meta.url));
export const DIST = join(DASHBOARD, 'dist');
export const CHROMIUM = '/usr/bin/chromium';

async function newestMtime(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.mtimeMs;
  const times = await Promise.all((await readdir(path)).map((e) => newestMtime(join(path, e))));
  return Math.max(s.mtimeMs, ...times);
}

/** Builds the console when dist is missing or older than its sources (the root `npm test` builds it beforehand). */
export async function ensureBuilt(): Promise<void> {
  const built = await stat(join(DIST, 'index.html')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const sources = Math.max(...(await Promise.all(['src', 'index.html', 'vite.config.ts', 'public'].map((p) => newestMtime(join(DASHBOARD, p))))));
  if (built >= sources) return;
  const { build } = await import('vite');
  await build({ root: DASHBOARD, configFile: join(DASHBOARD, 'vite.config.ts'), logLevel: 'warn' });
}

/** Headless Chromium as root on a machine without network: no sandbox, no background connections. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--disable-quic'],
  });
}
