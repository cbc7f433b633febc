import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayTopic, newId } from '@warden/contract';
import { parseHubConfig, startHub } from '@warden/hub';
import mqtt, { type MqttClient } from 'mqtt';
import { type Browser } from 'playwright-core';
import { DIST, CHROMIUM, ensureBuilt, launchChromium, closeAfterAll } from './browser.ts';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The energy pages in real headless Chromium against the real hub (in-process, ephemeral ports): meter registers
 * arrive as telemetry from a real MQTT client speaking the gateway protocol, the hub rolls them up, and a
 * facilities user sees totals, charts, the drill-down with the losses meter, exports the cost report and reads the
 * detector's anomaly list.
 */

const GW = 'gw-energy';
const GW_PASSWORD = 'energy-test-gateway-pw';
const FAC_PASSWORD = 'facilities-test-pw';
const MIN15 = 15 * 60_000;
const QUARTERS = 12;
const RELAY = 'relay-a';
/** What reached the simulated gateway on its command topic. */
const commands: Array<{ id: string; device: string; action: string; params: Record<string, unknown> }> = [];


let dataDir: string;
let hub: Awaited<ReturnType<typeof startHub>>;
let browser: Browser;
let gateway: MqttClient | undefined;
let token: string;

async function hubGet<T>(path: string): Promise<T> {
  const res = await fetch(`${hub.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  await stat(CHROMIUM);
  dataDir = await mkdtemp(join(tmpdir(), 'warden-energy-console-'));
  await ensureBuilt();
  hub = await startHub(
    parseHubConfig({
      gateways: [{ id: GW, password: GW_PASSWORD }], devices: { registry: [...['pm-a', 'pm-a1', 'wm-a', 'pm-b'].map((id) => ({ id, gateway: GW, kind: 'meter' as const, building: 'teach-a' })), { id: RELAY, gateway: GW, kind: 'actuator', building: 'teach-a' }] }, // the hub owns the registry (issue 9): inventories only report
     
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir,
      admin: { password: 'energy-test-admin-pw' },
      dashboard: { dir: DIST },
      users: [{ username: 'fac', displayName: 'Facilities', roles: ['facilities'], password: FAC_PASSWORD }],
      energy: {
        nodes: [
          { id: 'campus', type: 'campus', name: 'Main campus' },
          { id: 'north', type: 'zone', parent: 'campus', name: 'North zone' },
          { id: 'teach-a', type: 'building', parent: 'north', use: 'teaching', name: 'Teaching A' },
          { id: 'a-1', type: 'floor', parent: 'teach-a', name: 'A floor 1' },
          { id: 'teach-b', type: 'building', parent: 'north', use: 'teaching', name: 'Teaching B' },
        ],
        meters: [
          { id: 'pm-a', node: 'teach-a', medium: 'power', tariff: 'grid' },
          { id: 'pm-a1', node: 'a-1', medium: 'power', tariff: 'grid' },
          { id: 'wm-a', node: 'teach-a', medium: 'water', tariff: 'water' },
          { id: 'pm-b', node: 'teach-b', medium: 'power', tariff: 'grid' },
        ],
        schedules: [{ id: 'light-a', circuits: [RELAY], term: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ from: '00:00', to: '24:00', level: 80 }]])) }],
        virtualMeters: [{ id: 'loss-a', node: 'teach-a', medium: 'power', plus: ['pm-a'], minus: ['pm-a1'] }],
        tariffs: {
          grid: {
            kind: 'tou',
            medium: 'power',
            periods: [
              {
                from: '2020-01-01',
                to: '2099-12-31',
                slots: [{ from: '00:00', to: '08:00', band: 'valley' }, { from: '08:00', to: '18:00', band: 'peak' }, { from: '18:00', to: '24:00', band: 'flat' }],
                prices: { peak: 1.2, flat: 0.8, valley: 0.4 },
              },
            ],
          },
          water: { kind: 'tiered', medium: 'water', tiers: [{ price: 4 }] },
        },
      },
    }),
    { logger: false },
  );
  await hub.provisionGateway(GW, 'Energy test gateway', GW_PASSWORD);
  gateway = await mqtt.connectAsync(hub.mqttUrl, { clientId: `warden-edge-${GW}`, username: GW, password: GW_PASSWORD, reconnectPeriod: 0 });
  const now = Date.now();
  await gateway.publishAsync(gatewayTopic(GW, 'status'), JSON.stringify({ v: 1, gw: GW, state: 'online', ts: now, agentVersion: 'test', startedAt: now, backlog: 0 }), { qos: 1, retain: true });
  await gateway.publishAsync(
    gatewayTopic(GW, 'inventory'),
    JSON.stringify({ v: 1, gw: GW, ts: now, devices: [...['pm-a', 'pm-a1', 'wm-a', 'pm-b'].map((id) => ({ id, kind: 'meter', driver: 'mqtt-meter', building: 'teach-a' })), { id: RELAY, kind: 'actuator', driver: 'relay', building: 'teach-a' }] }),
    { qos: 1, retain: true },
  );
  // Three hours of registers every 15 minutes: 5 kWh per quarter on the building meter, 3 on its floor, 0.25 m³ water.
  // Quarter-aligned, so that each 15-minute bucket holds exactly one interval.
  const start = Math.floor(now / MIN15) * MIN15 - QUARTERS * MIN15;
  let seq = 0;
  const records = Array.from({ length: QUARTERS + 1 }, (_, i) => [
    { id: newId(), seq: ++seq, device: 'pm-a', ts: start + i * MIN15, kind: 'telemetry', metrics: { energy_kwh: 1000 + 5 * i, power_kw: 20 } },
    { id: newId(), seq: ++seq, device: 'pm-a1', ts: start + i * MIN15, kind: 'telemetry', metrics: { energy_kwh: 200 + 3 * i, power_kw: 12 } },
    { id: newId(), seq: ++seq, device: 'wm-a', ts: start + i * MIN15, kind: 'telemetry', metrics: { volume_m3: 50 + 0.25 * i, flow_m3h: 1 } },
  ]).flat();
  // Teaching B drew 20 kW all through a night three days ago (campus time UTC+8): a night base load anomaly.
  const day = Math.floor((now + 8 * 3_600_000) / 86_400_000) - 3;
  const nightStart = day * 86_400_000 + 23 * 3_600_000 - 8 * 3_600_000;
  for (let i = 0; i <= 8 * 4; i++) {
    records.push({ id: newId(), seq: ++seq, device: 'pm-b', ts: nightStart - 3_600_000 + i * MIN15, kind: 'telemetry', metrics: { energy_kwh: 500 + 5 * i, power_kw: 20 } });
  }
  await gateway.publishAsync(gatewayTopic(GW, 'up'), JSON.stringify({ v: 1, gw: GW, records }), { qos: 1 });
  // The gateway's side of actuator commands: record each and confirm it with a command.result event.
  gateway.on('message', (topic, payload) => {
    if (topic !== gatewayTopic(GW, 'cmd')) return;
    const cmd = JSON.parse(payload.toString()) as (typeof commands)[number];
    commands.push(cmd);
    const result = { id: newId(), seq: ++seq, device: cmd.device, ts: Date.now(), kind: 'event', type: 'command.result', data: { command: cmd.id, action: cmd.action, ok: true } };
    void gateway!.publishAsync(gatewayTopic(GW, 'up'), JSON.stringify({ v: 1, gw: GW, records: [result] }), { qos: 1 });
  });
  await gateway.subscribeAsync(gatewayTopic(GW, 'cmd'), { qos: 1 });

  const login = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'fac', password: FAC_PASSWORD }) });
  token = ((await login.json()) as { token: string }).token;
  // Wait until the hub has stored the batch and rolled it up (the page would otherwise race the ingest).
  const q = `node=teach-a&from=${start - 86_400_000}&to=${now + 86_400_000}&step=1d&refresh=true`;
  for (let i = 0; ; i++) {
    const c = await hubGet<{ total: number }>(`/api/energy/consumption?${q}`);
    if (c.total === 5 * QUARTERS) break;
    if (i > 100) throw new Error(`telemetry never rolled up: total ${c.total}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  browser = await launchChromium();
}, 60_000);

closeAfterAll(() => [browser, gateway, hub, dataDir]);

describe('energy console in a real browser against the real hub', () => {
  it('facilities staff see totals and charts, drill into a building with its losses, export the cost report, read anomalies and override a lighting schedule', async () => {
    // The browser's local day is the campus day (the hub's energy.utcOffsetHours defaults to 8).
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Shanghai', acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(hub.httpUrl);
    await page.getByTestId('login-username').fill('fac');
    await page.getByTestId('login-password').fill(FAC_PASSWORD);
    await page.getByTestId('login-submit').click();

    // Navigation for facilities: devices and the energy pages, no alarms.
    await page.getByTestId('nav-energy').click();
    await page.getByTestId('energy-overview').waitFor();
    expect(await page.getByTestId('nav-alarms').count()).toBe(0);

    // Campus totals for this month: the numbers the hub's cost route gives for the same period.
    const month = page.locator('[data-testid="energy-total"][data-medium="power"][data-period="month"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="energy-total"][data-medium="power"][data-period="month"]')?.getAttribute('data-amount') !== '');
    const monthStart = await page.evaluate(() => {
      const d = new Date();
      return new Date(d.getFullYear(), d.getMonth(), 1).getTime();
    });
    const cost = await hubGet<{ media: Array<{ medium: string; amount: number; cost: number }> }>(`/api/energy/cost?node=campus&from=${monthStart}&to=${Date.now()}`);
    const power = cost.media.find((m) => m.medium === 'power')!;
    expect(Number(await month.getAttribute('data-amount'))).toBe(power.amount);
    expect(Number(await month.getAttribute('data-cost'))).toBe(power.cost);
    expect(await month.textContent()).toContain('kWh');
    expect(await page.locator('[data-testid="energy-total"][data-medium="water"][data-period="month"]').textContent()).toContain('m³');
    // Gas is not metered: a dash-like notice, not a zero.
    await expect.poll(() => page.locator('[data-testid="energy-total"][data-medium="gas"][data-period="today"]').textContent()).toContain('无计量');

    // The 30-day trend is drawn (uPlot canvas) from the rolled-up telemetry.
    const trend = page.getByTestId('energy-trend-chart');
    await trend.locator('canvas').waitFor();
    expect(Number(await trend.getAttribute('data-points'))).toBeGreaterThan(0);

    // The hierarchy down to the floor; drill into the building.
    const tree = page.getByTestId('energy-tree');
    expect(await tree.getByTestId('energy-node').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')))).toEqual(['campus', 'north', 'teach-a', 'a-1', 'teach-b']);
    await tree.locator('[data-node="teach-a"] [data-testid="energy-node-open"]').click();
    const detail = page.getByTestId('energy-detail');
    await detail.waitFor();
    expect(await detail.getAttribute('data-node')).toBe('teach-a');
    const total = page.getByTestId('energy-detail-total');
    await expect.poll(() => total.getAttribute('data-total')).toBe(String(5 * QUARTERS));
    // Hourly by default; switching to 15 minutes gives one bar per quarter hour with data.
    await page.getByTestId('energy-step').selectOption('15m');
    const chart = detail.getByTestId('energy-chart');
    await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBe(QUARTERS);
    await chart.locator('canvas').waitFor();
    expect(await chart.getAttribute('data-series')).toBe('2'); // the building and its losses meter
    // Losses = building meter minus the floor's sub-meter: 12 × (5 − 3) kWh.
    await expect.poll(() => page.locator('[data-testid="energy-virtual-row"][data-meter="loss-a"]').getAttribute('data-total')).toBe(String(2 * QUARTERS));
    expect(await page.locator('[data-testid="energy-virtual-row"][data-meter="loss-a"]').textContent()).toContain('pm-a − pm-a1');
    // Water of the same building.
    await page.getByTestId('energy-medium').selectOption('water');
    await expect.poll(() => total.getAttribute('data-unit')).toBe('m³');
    expect(Number(await total.getAttribute('data-total'))).toBe(0.25 * QUARTERS);

    // Down to one meter from the overview's hierarchy: the floor's sub-meter alone.
    await page.getByTestId('energy-back').click();
    await page.locator('[data-testid="energy-meter-link"][data-meter="pm-a1"]').click();
    await expect.poll(() => page.getByTestId('energy-detail').getAttribute('data-node')).toBe('pm-a1');
    await expect.poll(() => page.getByTestId('energy-detail-total').getAttribute('data-total')).toBe(String(3 * QUARTERS));

    // Cost report: period × node with the TOU split, exported as CSV.
    await page.getByTestId('nav-energyCost').click();
    const row = page.locator('[data-testid="energy-cost-row"][data-node="teach-a"][data-medium="power"]');
    await row.first().waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('energy-cost-export').click()]);
    expect(download.suggestedFilename()).toMatch(/^warden-energy-cost-.*\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('期间,节点,名称,介质,单位,用量,费用（元）,未计价用量,峰段用量,峰段费用,平段用量,平段费用,谷段用量,谷段费用');
    const teachPower = lines.slice(1).map((l) => l.split(',')).filter((c) => c[1] === 'teach-a' && c[3] === '电');
    expect(teachPower.reduce((s, c) => s + Number(c[5]), 0)).toBe(5 * QUARTERS);
    const bandAmounts = teachPower.reduce((s, c) => s + Number(c[8] || 0) + Number(c[10] || 0) + Number(c[12] || 0), 0);
    expect(bandAmounts).toBe(5 * QUARTERS);
    // The table's rows and the file agree.
    expect(await page.getByTestId('energy-cost-row').count()).toBe(lines.length - 1);

    // Anomalies (the detector's alerts): Teaching B's meter went silent after its one night of readings, a
    // missing-data alert on its chart, explained in Chinese with its numbers; filters by kind and text.
    await page.getByTestId('nav-energyAnomalies').click();
    const silent = page.locator('[data-testid="energy-anomaly-row"][data-kind="missing"][data-meter="pm-b"]');
    await silent.waitFor();
    const hubList = await hubGet<{ anomalies: Array<{ kind: string; meter: string; text: { zh: string } }> }>('/api/energy/anomalies');
    const hubMissing = hubList.anomalies.find((a) => a.kind === 'missing' && a.meter === 'pm-b')!;
    expect(await silent.getByTestId('energy-anomaly-message').textContent()).toBe(hubMissing.text.zh);
    expect(Number(await silent.locator('dd[data-key="hours"]').getAttribute('data-value'))).toBeGreaterThan(2);
    expect(await silent.textContent()).toContain('数据缺失');
    await silent.getByTestId('anomaly-chart').locator('canvas').waitFor();
    await page.getByTestId('energy-anomaly-kind').selectOption('missing');
    expect(await page.getByTestId('energy-anomaly-row').evaluateAll((els) => els.every((e) => e.getAttribute('data-kind') === 'missing'))).toBe(true);
    await page.getByTestId('energy-anomaly-q').fill('no-such-meter');
    await expect.poll(() => page.getByTestId('energy-anomaly-count').getAttribute('data-count')).toBe('0');

    // Schedules: the lighting circuit is on at 80% by its plan; an override switches it off, the command reaches
    // the gateway, the actuator's confirmation shows, and the hub's audit trail has the change.
    await page.getByTestId('nav-energySchedules').click();
    const circuit = page.locator(`[data-testid="energy-circuit"][data-circuit="${RELAY}"]`);
    await circuit.waitFor();
    expect(await circuit.getAttribute('data-on')).toBe('true');
    expect(await circuit.getAttribute('data-level')).toBe('80');
    expect(await page.locator('[data-testid="energy-schedule"][data-schedule="light-a"] td[data-day="mon"]').textContent()).toBe('00:00–24:00 80%');
    await circuit.getByTestId('energy-override-on').selectOption('off');
    await circuit.getByTestId('energy-override-minutes').fill('30');
    await circuit.getByTestId('energy-override-submit').click();
    await expect.poll(() => circuit.getAttribute('data-on')).toBe('false');
    await expect.poll(() => commands.some((c) => c.device === RELAY && c.action === 'actuator.set' && c.params.on === false)).toBe(true);
    await expect.poll(() => circuit.getAttribute('data-command'), { timeout: 15_000 }).toBe('confirmed');
    const admin = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'energy-test-admin-pw' }) });
    const adminToken = ((await admin.json()) as { token: string }).token;
    const audit = (await (await fetch(`${hub.httpUrl}/api/audit?limit=200`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { entries: Array<{ actor: string; action: string; target: string; detail: Record<string, unknown> }> };
    expect(audit.entries.find((e) => e.action === 'schedule.override' && e.target === RELAY)).toMatchObject({ actor: 'fac', detail: { on: false } });
    expect(audit.entries.some((e) => e.action === 'schedule.command' && e.target === RELAY && (e.detail.params as { on: boolean }).on === false)).toBe(true);

    expect(pageErrors).toEqual([]);
    await context.close();
  }, 60_000);
});
