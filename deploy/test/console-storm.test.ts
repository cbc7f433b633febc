import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIVE_BATCH_MAX, gatewayTopic, newId } from '@warden/contract';
import { parseHubConfig, startHub } from '@warden/hub';
import mqtt, { type MqttClient } from 'mqtt';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, DIST, ensureBuilt, launchChromium } from './browser.ts';

/**
 * The console takes the coalesced live feed (contract LiveAuth feed 'coalesced'): in real Chromium against the real
 * hub, a storm of routine events arrives as batches, the events not shown live are counted on the events page with a
 * reload, and a forced door sent in the middle of the storm is shown (it is never batched).
 */

const ADMIN_PASSWORD = 'console-storm-admin-pw';
const GW = 'gw-storm-console';
const GW_PASSWORD = 'console-storm-gateway-pw';
const DOORS = Array.from({ length: 10 }, (_, i) => `door-s${i}`);

let dataDir: string;
let hub: Awaited<ReturnType<typeof startHub>>;
let browser: Browser;
let gateway: MqttClient;
let seq = 0;

const rec = (device: string, type: string, data: Record<string, unknown>) => ({ id: newId(), seq: ++seq, device, ts: Date.now(), kind: 'event', type, data });
const publish = (records: unknown[]) => gateway.publishAsync(gatewayTopic(GW, 'up'), JSON.stringify({ v: 1, gw: GW, records }), { qos: 1 });

beforeAll(async () => {
  await stat(CHROMIUM);
  dataDir = await mkdtemp(join(tmpdir(), 'warden-console-storm-'));
  await ensureBuilt();
  hub = await startHub(
    parseHubConfig({
      gateways: [{ id: GW, password: GW_PASSWORD }],
      devices: { registry: DOORS.map((id) => ({ id, gateway: GW, kind: 'door', name: `Storm ${id}` })) },
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir,
      admin: { password: ADMIN_PASSWORD },
      dashboard: { dir: DIST },
    }),
    { logger: false },
  );
  gateway = await mqtt.connectAsync(hub.mqttUrl, { clientId: `warden-edge-${GW}`, username: GW, password: GW_PASSWORD, reconnectPeriod: 0 });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await gateway?.endAsync();
  await hub?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('console under an event storm (coalesced live feed)', () => {
  it('shows a forced door sent mid-storm, counts the events not shown live, and reloads them', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(hub.httpUrl);
    await page.evaluate(() => localStorage.setItem('warden.lang', 'en'));
    await page.reload();
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    await page.getByTestId('nav-events').click();

    // 1,000 routine events in one uplink (one commit, one batch window), then a forced door, then 1,000 more.
    const storm = (n: number) => Array.from({ length: n }, (_, i) => rec(DOORS[i % DOORS.length]!, i % 2 ? 'door.opened' : 'door.closed', { door: 1 }));
    await publish(storm(1000));
    await publish([rec('door-s3', 'door.forced', { door: 1 })]);
    await publish(storm(1000));

    await page.locator('[data-testid="event-row"][data-event-type="door.forced"][data-device="door-s3"]').waitFor();
    const notice = page.getByTestId('events-skipped');
    await notice.waitFor();
    // At most LIVE_BATCH_MAX of each window's events come live; the rest are counted, never silently gone.
    await page.waitForFunction(
      (min) => Number(/(\d[\d,]*)/.exec(document.querySelector('[data-testid="events-skipped"]')?.textContent ?? '')?.[1]?.replace(/,/g, '') ?? 0) >= min,
      2 * (1000 - LIVE_BATCH_MAX),
    );
    expect(await notice.textContent()).toMatch(/more events arrived too fast to show live/);

    await page.getByTestId('events-skipped-reload').click();
    await notice.waitFor({ state: 'detached' });
    // The reloaded page of stored events: the newest routine event of the storm is listed with the forced door.
    await page.locator('[data-testid="event-row"][data-event-type="door.forced"]').waitFor();
    expect(await page.getByTestId('event-row').count()).toBeGreaterThan(0);

    // Chinese strings too.
    await page.getByTestId('lang-toggle').click();
    await publish(storm(1000));
    await notice.waitFor();
    expect(await notice.textContent()).toContain('条事件到达过快');

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
