import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEdgeConfig, startEdgeAgent, type EdgeAgent } from '@warden/edge';
import { parseHubConfig, startHub } from '@warden/hub';
import { startDevice, type SimDevice } from '@warden/simulators';
import { type Browser } from 'playwright-core';
import pino from 'pino';
import { DIST, CHROMIUM, ensureBuilt, launchChromium, closeAfterAll } from './browser.ts';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 5's must-show, end to end with every part real: facilities staff edit a building's lighting schedule in the
 * console (headless Chromium), the hub stores it and its schedule runner sends `actuator.set` to the gateway's edge
 * agent (a real `startEdgeAgent`), whose relay driver switches a simulated relay actuator on the agent's field
 * broker; the actuator's confirmation shows in the console, and so does the edit in the console's audit trail.
 */

const GW = 'gw-teach-a';
const GW_PASSWORD = 'schedule-browser-gateway-pw';
const ADMIN_PASSWORD = 'schedule-browser-admin-pw';
const FAC_PASSWORD = 'schedule-browser-facilities-pw';
const RELAY = 'relay-teach-a-1f';
const silent = pino({ level: 'silent' });


let dataDir: string;
let hub: Awaited<ReturnType<typeof startHub>>;
let agent: EdgeAgent | undefined;
let relay: SimDevice | undefined;
let browser: Browser;

async function hubGet<T>(path: string, token: string): Promise<T> {
  const res = await fetch(`${hub.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function loginToken(username: string, password: string): Promise<string> {
  const res = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  return ((await res.json()) as { token: string }).token;
}

beforeAll(async () => {
  await stat(CHROMIUM);
  dataDir = await mkdtemp(join(tmpdir(), 'warden-schedule-browser-'));
  await ensureBuilt();
  hub = await startHub(
    parseHubConfig({
      gateways: [{ id: GW, password: GW_PASSWORD }], devices: { registry: [{ id: RELAY, gateway: GW, kind: 'actuator', building: 'teach-a', name: 'Teaching A 1F lighting' }] }, // the hub owns the registry (issue 9): inventories only report
     
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir,
      admin: { password: ADMIN_PASSWORD },
      dashboard: { dir: DIST },
      users: [{ username: 'fac', displayName: 'Facilities', roles: ['facilities'], password: FAC_PASSWORD }],
      energy: {
        nodes: [
          { id: 'campus', type: 'campus', name: 'Main campus' },
          { id: 'teach-a', type: 'building', parent: 'campus', use: 'teaching', name: 'Teaching A' },
        ],
        // Configured plan: the floor lighting is off all week (no periods), so the edit below turns it on.
        schedules: [{ id: 'teach-a-lighting', circuits: [RELAY], term: {} }],
      },
    }),
    { logger: false },
  );
  await hub.provisionGateway(GW, 'Teaching A gateway', GW_PASSWORD);
  agent = await startEdgeAgent(
    parseEdgeConfig({
      gateway: { id: GW, name: 'Teaching A gateway' },
      hub: { url: hub.mqttUrl, password: GW_PASSWORD },
      field: { host: '127.0.0.1', port: 0, requireAuth: false }, // loopback bench; field auth: edge/test/field-security.test.ts
      outbox: { path: join(dataDir, 'outbox.db') },
      devices: [{ id: RELAY, driver: 'relay-actuator', name: 'Teaching A 1F lighting', building: 'teach-a' }],
    }),
    { logger: silent },
  );
  relay = await startDevice({ id: RELAY, type: 'relay-actuator', building: 'teach-a', options: { circuit: 'lighting', on: false, behave: false } }, { url: `mqtt://127.0.0.1:${agent.field.port}`, logger: silent });
  // The hub must know the relay and its gateway before a command can be routed to it.
  const admin = await loginToken('admin', ADMIN_PASSWORD);
  for (let i = 0; ; i++) {
    const { devices } = await hubGet<{ devices: Array<{ id: string; online?: boolean; gateway?: string }> }>('/api/devices', admin);
    const d = devices.find((x) => x.id === RELAY);
    if (d && d.online !== false) break;
    if (i > 200) throw new Error(`relay never reached the hub: ${JSON.stringify(devices)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  browser = await launchChromium();
}, 60_000);

closeAfterAll(() => [browser, relay, agent, hub, dataDir]);

describe('schedule editor in a real browser, through a real edge agent to a simulated relay', () => {
  it("facilities staff change a building's lighting schedule; the actuator switches, the confirmation shows, the audit trail has it", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'Asia/Shanghai' });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(hub.httpUrl);
    await page.getByTestId('login-username').fill('fac');
    await page.getByTestId('login-password').fill(FAC_PASSWORD);
    await page.getByTestId('login-submit').click();

    await page.getByTestId('nav-energySchedules').click();
    const circuit = page.locator(`[data-testid="energy-circuit"][data-circuit="${RELAY}"]`);
    await circuit.waitFor();
    expect(await circuit.getAttribute('data-on')).toBe('false');
    expect(relay!.state()).toMatchObject({ on: false });

    // Lighting every day from midnight to midnight, dimmed to 40 %: on now, whatever the time of the run.
    const card = page.locator('[data-testid="energy-schedule"][data-schedule="teach-a-lighting"]');
    await card.getByTestId('energy-schedule-edit').click();
    const inputs = card.locator('[data-testid="energy-schedule-input"][data-plan="term"]');
    expect(await inputs.count()).toBe(7);
    // A day that is not a period list is refused in the browser, naming the day; nothing is sent.
    await inputs.nth(0).fill('22:00-07:00');
    await card.getByTestId('energy-schedule-save').click();
    await expect.poll(() => card.getByTestId('energy-schedule-message').getAttribute('role')).toBe('alert');
    expect(await card.getByTestId('energy-schedule-message').textContent()).toContain('term.mon');
    for (let i = 0; i < 7; i++) await inputs.nth(i).fill('00:00-24:00 40%');
    await card.getByTestId('energy-schedule-save').click();
    await expect.poll(() => card.getByTestId('energy-schedule-message').getAttribute('role')).toBe('status');
    expect(await card.locator('td[data-day="wed"]').textContent()).toBe('00:00–24:00 40%');
    expect(await card.getByTestId('energy-schedule-edited').textContent()).toContain('fac');

    // The runner's actuator.set went hub → edge agent → field broker → the simulated relay, which switched.
    await expect.poll(() => circuit.getAttribute('data-on')).toBe('true');
    expect(await circuit.getAttribute('data-level')).toBe('40');
    await expect.poll(() => relay!.state(), { timeout: 10_000 }).toMatchObject({ on: true, level: 40 });
    // …and its command.result came back the same way: the console shows the command confirmed.
    await expect.poll(() => circuit.getAttribute('data-command'), { timeout: 15_000 }).toBe('confirmed');
    expect(await circuit.getByTestId('energy-circuit-command').textContent()).toContain('已确认');

    // The console's audit trail (facilities see the energy entries): the edit with its author and change, the command, its confirmation.
    await page.getByTestId('nav-audit').click();
    const edit = page.locator('[data-testid="audit-entry"][data-action="schedule.edit"]');
    await edit.first().waitFor();
    expect(await edit.getAttribute('data-actor')).toBe('fac');
    expect(await edit.getAttribute('data-target')).toBe('teach-a-lighting');
    expect(await edit.getByTestId('audit-detail').textContent()).toContain('term mon: – → 00:00–24:00 40%');
    await expect.poll(() => page.locator(`[data-testid="audit-entry"][data-action="schedule.confirmed"][data-target="${RELAY}"]`).count()).toBeGreaterThan(0);
    // Facilities do not see other domains' entries (the gateway's creation is in the hub's audit log).
    expect(await page.locator('[data-testid="audit-entry"][data-action="gateway.create"]').count()).toBe(0);
    await page.getByTestId('audit-filter').selectOption('scheduleEdits');
    await expect.poll(() => page.locator('[data-testid="audit-entry"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-action')))).toEqual(['schedule.edit']);

    expect(pageErrors).toEqual([]);
    await context.close();
  }, 60_000);
});
