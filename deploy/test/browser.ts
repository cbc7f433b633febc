import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser } from 'playwright-core';
import { afterAll } from 'vitest';

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

/**
 * One part a browser test started, as its teardown ends it: Chromium (closed), an MQTT client (ended at once: nothing it
 * still has in flight matters now), a hub, agent or simulator (stopped), a folder (removed), or a step of the test's own.
 * Unset (a set-up that failed part way) is skipped.
 */
export type Part = Browser | MqttClient | { stop(): Promise<unknown> } | string | (() => unknown) | undefined | null | false;

async function end(part: Exclude<Part, undefined | null | false>): Promise<unknown> {
  if (typeof part === 'string') return rm(part, { recursive: true, force: true });
  if (typeof part === 'function') return part();
  if ('endAsync' in part) return part.endAsync(true);
  if ('stop' in part) return part.stop();
  return part.close();
}

/**
 * The browser tests' teardown: after all tests, ends the parts `parts()` names at that time, in its order (the browser
 * first, the hub after the clients and agents that talk to it, its data folder last). Every part is ended even when one
 * fails; the first failure is then thrown.
 */
export function closeAfterAll(parts: () => Part[], timeoutMs?: number): void {
  afterAll(async () => {
    const errors: unknown[] = [];
    for (const part of parts()) {
      if (!part) continue;
      try {
        await end(part);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw errors[0];
  }, timeoutMs);
}
