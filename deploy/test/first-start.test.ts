import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stat } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { eventually, freePort, runWarden, type WardenProcess } from '../src/testing.ts';
import { CHROMIUM, closeAfterAll, ensureBuilt, launchChromium } from './browser.ts';

/**
 * The first start as a newcomer gets it: `warden start` (what `npm start` runs) on a new data dir, the demo
 * campus, every part its own process. Then the console in real Chromium: every page has real data (30 days of
 * meter history rolled up into energy totals, face decisions from the face terminal, the site plan with its
 * markers), Chinese rendered with a real CJK font, and at 390 px no page scrolls sideways. Screenshots of every
 * page at both widths go to deploy/test-output/first-start/.
 */

const OUT = fileURLToPath(new URL('../test-output/first-start/', import.meta.url));
const ADMIN_PASSWORD = 'first-start-admin-pw';
const PAGES = ['events', 'alarms', 'site', 'devices', 'energy', 'energyCost', 'energyAnomalies', 'energySchedules', 'faces', 'gateways', 'audit'] as const;
type PageId = (typeof PAGES)[number];

/** `count` consecutive free TCP ports (the gateways' field brokers take base + i). */
async function freeRange(count: number): Promise<number> {
  const listens = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below the ephemeral range (32768+), where outgoing connections would take ports from under us.
    const base = 15_000 + Math.floor(Math.random() * 15_000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await listens(base + i);
    if (ok) return base;
  }
  throw new Error('no range of free ports');
}

/** What each page must show once data has arrived: a selector that matches, and an optional check of it. */
const SHOWS: Record<PageId, { selector: string; what: string; min?: number } | null> = {
  events: { selector: '[data-testid="event-row"][data-device="face-lab-1-1"]', what: 'a face decision from the face terminal' },
  // Alarms depend on what the simulated campus happens to do; the page is checked for layout and glyphs only.
  alarms: null,
  site: { selector: '[data-testid="site-marker"]', what: 'markers on the site plan', min: 20 },
  devices: { selector: '[data-testid="device-row"]', what: 'the campus devices', min: 60 },
  energy: { selector: '[data-testid="energy-total"][data-medium="power"][data-period="month"]', what: 'the month’s power total' },
  energyCost: { selector: '[data-testid="energy-cost-row"]', what: 'cost rows' },
  energyAnomalies: null,
  energySchedules: { selector: '[data-testid="energy-circuit"]', what: 'scheduled circuits' },
  faces: { selector: '[data-testid="face-row"]', what: 'the enrolled persons', min: 3 },
  gateways: { selector: '[data-testid="gateway-row"]', what: 'the five gateways', min: 5 },
  audit: { selector: '[data-testid="audit-entry"]', what: 'audit entries (the enrolment)' },
};

describe('first start: every page has something real, in Chinese, at phone width too', () => {
  let dir: string;
  let start: WardenProcess;
  let browser: Browser;
  let url: string;
  let token: string;

  const get = async <T,>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    await stat(CHROMIUM);
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    // Built here so `warden start` finds the console up to date, as after `npm install`.
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'warden-first-start-'));
    const [http, mqtt, field] = [await freePort(), await freePort(), await freeRange(5)];
    url = `http://127.0.0.1:${http}`;
    start = runWarden(['start', '--data', join(dir, 'data')], {
      WARDEN_HTTP_PORT: String(http),
      WARDEN_MQTT_PORT: String(mqtt),
      WARDEN_FIELD_PORT_BASE: String(field),
      WARDEN_ADMIN_PASSWORD: ADMIN_PASSWORD,
      WARDEN_CAMPUS_SCALE: 'demo',
    });
    // Minutes on a loaded machine: five agents and a face pipeline loading TypeScript and models at once.
    await start.waitFor(/Warden is running/, 480_000);
    const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    token = ((await login.json()) as { token: string }).token;
    browser = await launchChromium();
  }, 540_000);

  // `warden start` stops its parts one by one (simulator first, hub last): give it time, so none is left behind.
  const stopWarden = async () => {
    if (start.child.exitCode !== null || start.child.signalCode !== null) return;
    const exited = new Promise((r) => start.child.once('exit', r));
    start.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 90_000))]);
    await start.kill9();
  };
  closeAfterAll(() => [browser, start && stopWarden, dir], 120_000);

  it('the simulators’ month of meter history reached the hub through the gateways and is rolled up', async () => {
    const now = Date.now();
    const campus = await eventually(
      async () => {
        const c = await get<{ total: number; points: Array<[number, number, string[]]> }>(`/api/energy/consumption?node=campus&medium=power&from=${now - 30 * 86_400_000}&to=${now}&step=1d&refresh=true`);
        // History, not just today: most of the 30 days have consumption.
        return c.points.filter((p) => p[1] > 0).length >= 25 && c;
      },
      120_000,
      '30 days of campus power consumption',
    );
    expect(campus.total).toBeGreaterThan(0);
  }, 130_000);

  it('the face terminal’s captures are decided at the gateway: a grant, a stranger denied, a watch-list hit', async () => {
    const types = await eventually(
      async () => {
        const { events } = await get<{ events: Array<{ type: string; device: string; data: Record<string, unknown> }> }>('/api/events?device=face-lab-1-1&limit=200');
        const seen = new Set(events.map((e) => (e.type === 'access.granted' ? `granted:${String(e.data.method)}` : e.type)));
        return seen.has('granted:face') && seen.has('face.stranger') && seen.has('face.watchlist') && seen;
      },
      120_000,
      'face grant, stranger and watch-list events',
    );
    expect([...types]).toEqual(expect.arrayContaining(['granted:face', 'face.stranger', 'face.watchlist']));
  }, 130_000);

  const signIn = async (page: Page) => {
    await page.goto(url);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('nav-events').waitFor();
  };

  const open = async (page: Page, id: PageId) => {
    await page.evaluate((p) => (location.hash = `#/${p}`), id);
    await page.getByTestId(`nav-${id}`).and(page.locator('.active')).waitFor();
  };

  it('every page shows data, in Chinese with a real CJK font (desktop, 1280 px)', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page);
    for (const id of PAGES) {
      await open(page, id);
      const shows = SHOWS[id];
      if (shows) {
        const loc = page.locator(shows.selector);
        await expect.poll(() => loc.count(), { timeout: 30_000, message: `${id}: ${shows.what}` }).toBeGreaterThanOrEqual(shows.min ?? 1);
      }
      if (id === 'energy') {
        await expect
          .poll(() => page.locator(SHOWS.energy!.selector).getAttribute('data-amount'), { timeout: 60_000, message: 'energy month total above zero' })
          .toMatch(/^[1-9]|^0\.\d*[1-9]/);
      }
      if (id === 'faces') expect(await page.locator('[data-testid="face-row"][data-watchlist="true"]').count()).toBe(1);
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(OUT, `${id}-1280.png`), fullPage: true, timeout: 120_000 });
    }
    expect(errors).toEqual([]);

    // The navigation is Chinese, and Chromium draws it with a CJK font: the self-hosted subset (or a system CJK
    // font), never a fallback without the glyphs.
    await open(page, 'events');
    const nav = page.getByTestId('nav-energy');
    expect(await nav.textContent()).toMatch(/[\u4e00-\u9fff]/);
    await page.evaluate(() => document.fonts.ready);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '[data-testid="nav-energy"]' });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    const cjk = fonts.filter((f) => /Warden SC|CJK|Han Sans|PingFang|YaHei|WenQuanYi/i.test(f.familyName));
    expect(cjk.reduce((n, f) => n + f.glyphCount, 0), JSON.stringify(fonts)).toBeGreaterThan(0);
    // Where the system's UI font has no CJK glyphs, the self-hosted face is next in the stack; it must at least be servable.
    expect((await page.request.get(`${url}/fonts/warden-sc.woff2`)).status()).toBe(200);
    await page.close();
  }, 600_000);

  it('at 390 px no page scrolls sideways (tables scroll in their own box, the navigation wraps)', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    await signIn(page);
    const wide: string[] = [];
    for (const id of PAGES) {
      await open(page, id);
      const shows = SHOWS[id];
      if (shows) await page.locator(shows.selector).first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(300);
      const m = await page.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, inner: innerWidth }));
      if (m.scroll > m.inner) {
        const culprits = await page.evaluate(() =>
          [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.table-wrap'))
            .slice(0, 5)
            .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}[${Math.round(e.getBoundingClientRect().right)}]`),
        );
        wide.push(`${id}: ${m.scroll} > ${m.inner} (${culprits.join(', ')})`);
      }
      await page.screenshot({ path: join(OUT, `${id}-390.png`), fullPage: true, timeout: 120_000 });
    }
    expect(wide).toEqual([]);
    await page.close();
  }, 600_000);
});
