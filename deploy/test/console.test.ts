import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayTopic, newId } from '@warden/contract';
import { parseHubConfig, startHub } from '@warden/hub';
import mqtt, { type MqttClient } from 'mqtt';
import { type Browser, type Page } from 'playwright-core';
import { DIST, CHROMIUM, ensureBuilt, launchChromium, closeAfterAll } from './browser.ts';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The console in real headless Chromium against the real hub (in-process, ephemeral ports), fed by a real MQTT
 * client speaking the gateway protocol.
 */

const ADMIN_PASSWORD = 'console-test-admin-pw';
const GW = 'gw-console';
const GW_PASSWORD = 'console-test-gateway-pw';
const DEVICE = 'door-t1';


let dataDir: string;
let hub: Awaited<ReturnType<typeof startHub>>;
let browser: Browser;
let gateway: MqttClient | undefined;
let seq = 0;

function eventRecord(type: string, data: Record<string, unknown>) {
  return { id: newId(), seq: ++seq, device: DEVICE, ts: Date.now(), kind: 'event', type, data };
}

async function publishEvent(type: string, data: Record<string, unknown>): Promise<void> {
  await gateway!.publishAsync(gatewayTopic(GW, 'up'), JSON.stringify({ v: 1, gw: GW, records: [eventRecord(type, data)] }), { qos: 1 });
}

async function signIn(page: Page, password: string): Promise<void> {
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

beforeAll(async () => {
  await stat(CHROMIUM); // a clear failure if the browser is not installed
  dataDir = await mkdtemp(join(tmpdir(), 'warden-console-'));
  await ensureBuilt();
  hub = await startHub(
    parseHubConfig({
      gateways: [{ id: GW, password: GW_PASSWORD }], devices: { registry: [{ id: DEVICE, gateway: GW, kind: 'door', name: 'Test door' }] }, // the hub owns the registry (issue 9): inventories only report
      http: { port: 0 }, mqtt: { port: 0 }, dataDir, admin: { password: ADMIN_PASSWORD }, dashboard: { dir: DIST } }),
    { logger: false },
  );
  await hub.provisionGateway(GW, 'Console test gateway', GW_PASSWORD);
  gateway = await mqtt.connectAsync(hub.mqttUrl, {
    clientId: `warden-edge-${GW}`,
    username: GW,
    password: GW_PASSWORD,
    reconnectPeriod: 0,
    will: { topic: gatewayTopic(GW, 'status'), payload: Buffer.from(JSON.stringify({ v: 1, gw: GW, state: 'offline', ts: Date.now() })), qos: 1, retain: true },
  });
  const now = Date.now();
  await gateway.publishAsync(
    gatewayTopic(GW, 'status'),
    JSON.stringify({ v: 1, gw: GW, state: 'online', ts: now, agentVersion: 'test', startedAt: now, backlog: 0 }),
    { qos: 1, retain: true },
  );
  await gateway.publishAsync(
    gatewayTopic(GW, 'inventory'),
    JSON.stringify({ v: 1, gw: GW, ts: now, devices: [{ id: DEVICE, kind: 'door', driver: 'door-controller', name: 'Test door' }] }),
    { qos: 1, retain: true },
  );
  browser = await launchChromium();
});

closeAfterAll(() => [browser, gateway, hub, dataDir]);

describe('live console in a real browser against the real hub', () => {
  it('refuses bad credentials with a clear message', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.goto(hub.httpUrl);
    await signIn(page, 'not-the-password');
    const error = page.getByTestId('login-error');
    await error.waitFor();
    expect(await error.getAttribute('data-error')).toBe('badCredentials');
    expect(await error.textContent()).toContain('用户名或密码错误');
    await context.close();
  });

  it('ends a session whose token the hub no longer accepts', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.goto(hub.httpUrl);
    await page.evaluate(() =>
      sessionStorage.setItem(
        'warden.session',
        JSON.stringify({ token: 'forged.token.value', user: { username: 'admin', displayName: 'Admin', roles: ['admin'] } }),
      ),
    );
    await page.reload();
    await page.getByTestId('login-notice').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('warden.session'))).toBeNull();
    await context.close();
  });

  it('signs in, shows stored and live events, devices and gateways, switches language and signs out', async () => {
    // Stored before the page opens: must come from GET /api/events.
    await publishEvent('door.opened', { door: 1 });

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(hub.httpUrl);

    // Chinese by default.
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await signIn(page, ADMIN_PASSWORD);
    const navEvents = page.getByTestId('nav-events');
    await navEvents.waitFor();
    expect(await navEvents.textContent()).toBe('实时事件');
    // Admin sees every page, including gateways.
    await page.getByTestId('nav-gateways').waitFor();

    await page.locator('[data-testid="event-row"][data-event-type="door.opened"]').waitFor();
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();

    // Published only now that the page is open and live: must arrive over socket.io.
    expect(await page.locator('[data-testid="event-row"][data-event-type="door.forced"]').count()).toBe(0);
    await publishEvent('door.forced', { door: 1 });
    const forced = page.locator(`[data-testid="event-row"][data-event-type="door.forced"][data-device="${DEVICE}"]`);
    await forced.waitFor();
    expect(await forced.getAttribute('data-alarm')).toBe('true');
    expect(await forced.textContent()).toContain('门被强行打开');
    // Newest first.
    expect(await page.getByTestId('event-row').first().getAttribute('data-event-type')).toBe('door.forced');

    await page.getByTestId('nav-devices').click();
    const door = page.locator(`[data-testid="device-row"][data-device="${DEVICE}"]`);
    await door.waitFor();
    expect(await door.textContent()).toContain('Test door');
    // Availability arrives live on the open page.
    await publishEvent('device.online', {});
    await page.locator(`[data-testid="device-row"][data-device="${DEVICE}"][data-online="true"]`).waitFor();

    await page.getByTestId('nav-gateways').click();
    const gwRow = page.locator(`[data-testid="gateway-row"][data-gateway="${GW}"]`);
    await gwRow.waitFor();
    expect(await gwRow.getAttribute('data-online')).toBe('true');

    // The gateway drops off: its row turns offline live, and its devices are no longer shown as reachable.
    await gateway!.endAsync(true);
    gateway = undefined;
    await page.locator(`[data-testid="gateway-row"][data-gateway="${GW}"][data-online="false"]`).waitFor();
    await page.getByTestId('nav-devices').click();
    await page.locator(`[data-testid="device-row"][data-device="${DEVICE}"][data-online="false"]`).waitFor();
    expect(await door.getAttribute('data-gateway-offline')).toBe('true');

    // Switch to English: the UI text changes, <html lang> follows, and the choice survives a reload.
    await page.getByTestId('lang-toggle').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await navEvents.textContent()).toBe('Live events');
    await page.reload();
    await navEvents.waitFor();
    expect(await navEvents.textContent()).toBe('Live events');
    await navEvents.click();
    expect(await forced.textContent()).toContain('Door forced open');

    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.getByTestId('login-submit').textContent()).toBe('Sign in');

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
