import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alarm, Anomalies } from '@warden/contract';
import { parseHubConfig, startHub } from '@warden/hub';
import { type Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, DIST, ensureBuilt, launchChromium, closeAfterAll } from './browser.ts';

/**
 * History import and energy anomalies in real headless Chromium against the real hub (in-process, ephemeral ports,
 * its clock injected: a fixed campus date, and the browser's clock set to the same instant, so the test passes on any
 * date). A facilities user imports a CSV of the last month's register readings of a registered meter: first a file
 * with bad rows (every one named, nothing stored), then the good file, which holds an afternoon of extra use two days
 * ago. The anomaly list shows it on the meter's chart with the baseline band and its explanation, and its energy
 * alarm, which the user acknowledges; then marks it "not an anomaly", which resolves the alarm.
 */

const OFF = 8;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GW = 'gw-bms';
const FAC_PASSWORD = 'facilities-import-pw';
const ADMIN_PASSWORD = 'energy-import-admin-pw';
/** Monday 2026-06-01 09:20 campus time (UTC+8). */
const NOW = Date.UTC(2026, 5, 1, 1, 20);
/** The anomaly: Saturday 2026-05-30, 14:00–17:00 campus time, 60 kWh an hour over an 8 kWh weekend afternoon. */
const SPIKE = Date.UTC(2026, 4, 30, 6, 0);

let dataDir: string;
let hub: Awaited<ReturnType<typeof startHub>>;
let browser: Browser;
let admin: string;

const local = (ts: number): string => new Date(ts + OFF * HOUR).toISOString().slice(0, 16).replace('T', ' ');

/** Hourly register readings of pm-lib over the 35 days before the last full hour: an office, plus the spike. */
function readingsCsv(): string {
  const last = Math.floor(NOW / HOUR) * HOUR - HOUR;
  const lines = ['meter,ts,kwh'];
  let register = 10_000;
  for (let ts = last - 35 * DAY; ts <= last; ts += HOUR) {
    lines.push(`pm-lib,${local(ts)},${register.toFixed(3)}`);
    const d = new Date(ts + OFF * HOUR);
    const work = d.getUTCDay() >= 1 && d.getUTCDay() <= 5 && d.getUTCHours() >= 8 && d.getUTCHours() < 18;
    register += (work ? 40 : 8) * (1 + 0.02 * Math.sin(ts / 7_777_777)) + (ts >= SPIKE && ts < SPIKE + 3 * HOUR ? 60 : 0);
  }
  return lines.join('\n') + '\n';
}

async function hubApi<T>(path: string, token: string): Promise<T> {
  const res = await fetch(`${hub.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  await stat(CHROMIUM);
  dataDir = await mkdtemp(join(tmpdir(), 'warden-energy-import-'));
  await ensureBuilt();
  const offset = NOW - Date.now();
  hub = await startHub(
    parseHubConfig({
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir,
      admin: { password: ADMIN_PASSWORD },
      dashboard: { dir: DIST },
      gateways: [{ id: GW, password: 'bms-gateway-password' }],
      // The hub owns the registry (issue 9): the meter is registered, not proposed by an inventory.
      devices: { registry: [{ id: 'pm-lib', gateway: GW, kind: 'meter', building: 'lib' }] },
      users: [{ username: 'fac', displayName: 'Facilities', roles: ['facilities'], password: FAC_PASSWORD }],
      energy: {
        nodes: [
          { id: 'campus', type: 'campus', name: 'Main campus' },
          { id: 'lib', type: 'building', parent: 'campus', use: 'library', name: 'Library' },
        ],
        meters: [{ id: 'pm-lib', node: 'lib', medium: 'power' }],
      },
    }),
    { logger: false, clock: () => Date.now() + offset },
  );
  const login = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  admin = ((await login.json()) as { token: string }).token;
  browser = await launchChromium();
}, 90_000);

closeAfterAll(() => [browser, hub, dataDir]);

describe('energy history import and anomalies in a real browser', () => {
  it('facilities import last month’s readings, see the anomaly on its chart with its explanation and acknowledge its energy alarm', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Shanghai' });
    await context.clock.setFixedTime(NOW);
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(hub.httpUrl);
    await page.getByTestId('login-username').fill('fac');
    await page.getByTestId('login-password').fill(FAC_PASSWORD);
    await page.getByTestId('login-submit').click();

    // A file with bad rows: every one named with its reason, nothing stored.
    await page.getByTestId('nav-energyImport').click();
    const bad = ['meter,ts,kwh', `pm-lib,${local(NOW - 2 * DAY)},100`, `pm-nope,${local(NOW - 2 * DAY)},5`, `pm-lib,2026-02-30 10:00,7`, `pm-lib,${local(NOW - DAY)},lots`].join('\n');
    await page.getByTestId('energy-import-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.getByTestId('energy-import-submit').click();
    const errors = page.getByTestId('energy-import-errors');
    await errors.waitFor();
    expect(await page.getByTestId('energy-import-error').evaluateAll((els) => els.map((e) => e.getAttribute('data-row')))).toEqual(['3', '4', '5']);
    expect(await page.locator('[data-testid="energy-import-error"][data-row="3"]').textContent()).toContain('pm-nope');
    expect((await hubApi<{ total: number }>(`/api/energy/consumption?node=pm-lib&from=${NOW - 40 * DAY}&to=${NOW}&step=1d`, admin)).total).toBe(0);

    // The month of readings: imported, rolled up, judged.
    await page.getByTestId('energy-import-file').setInputFiles({ name: 'library-may.csv', mimeType: 'text/csv', buffer: Buffer.from(readingsCsv()) });
    await page.getByTestId('energy-import-submit').click();
    const ok = page.getByTestId('energy-import-ok');
    await ok.waitFor({ timeout: 60_000 });
    expect(Number(await ok.getAttribute('data-imported'))).toBe(35 * 24 + 1);
    expect((await hubApi<{ total: number }>(`/api/energy/consumption?node=pm-lib&from=${NOW - 40 * DAY}&to=${NOW}&step=1d`, admin)).total).toBeGreaterThan(35 * 24 * 8);

    // The anomaly list (the last 7 days by default): the spike on the meter's chart with the band and its sentence.
    const hubList = await hubApi<Anomalies>(`/api/energy/anomalies?from=${NOW - 7 * DAY}&to=${NOW}`, admin);
    const spike = hubList.anomalies.find((a) => a.kind === 'spike' && a.meter === 'pm-lib');
    expect(spike).toMatchObject({ from: SPIKE, to: SPIKE + 3 * HOUR });
    await page.getByTestId('nav-energyAnomalies').click();
    const card = page.locator(`[data-testid="energy-anomaly-row"][data-kind="spike"][data-meter="pm-lib"][data-from="${SPIKE}"]`);
    await card.waitFor();
    const chart = card.getByTestId('anomaly-chart');
    await chart.locator('canvas').waitFor();
    expect(Number(await chart.getAttribute('data-band-hours'))).toBeGreaterThan(24);
    expect(await chart.getAttribute('data-alert-hours')).toBe('3');
    expect(Number(await chart.getAttribute('data-outside-band'))).toBeGreaterThanOrEqual(1);
    const sentence = (await card.getByTestId('energy-anomaly-message').textContent())!;
    expect([spike!.text.zh, spike!.text.en]).toContain(sentence);
    expect(Number(await card.locator('[data-testid="energy-anomaly-numbers"] dd[data-key="ratio"]').getAttribute('data-value'))).toBeGreaterThan(2);

    // Its energy alarm, acknowledged on the card.
    const alarmBadge = card.getByTestId('energy-anomaly-alarm');
    await expect.poll(() => alarmBadge.getAttribute('data-state')).toBe('raised');
    const alarmId = (await alarmBadge.getAttribute('data-alarm'))!;
    await card.getByTestId('energy-anomaly-note').fill('library open day');
    await card.getByTestId('energy-anomaly-ack').click();
    await expect.poll(() => card.getByTestId('energy-anomaly-alarm').getAttribute('data-state')).toBe('acknowledged');
    const acked = await hubApi<Alarm & { acknowledgedBy: string | null }>(`/api/alarms/${alarmId}`, admin);
    expect(acked).toMatchObject({ type: 'energy.spike', device: 'pm-lib', state: 'acknowledged', acknowledgedBy: 'fac', building: 'lib' });

    // Not an anomaly: kept by the hub and the alarm resolved.
    await card.getByTestId('energy-anomaly-dismiss').click();
    await card.getByTestId('energy-anomaly-dismissed').waitFor();
    await expect.poll(async () => (await hubApi<Alarm>(`/api/alarms/${alarmId}`, admin)).state).toBe('resolved');
    const feedback = await hubApi<{ feedback: Array<{ meter: string; kind: string; by: string; note: string | null }> }>('/api/energy/anomalies/feedback?meter=pm-lib', admin);
    expect(feedback.feedback).toEqual([expect.objectContaining({ meter: 'pm-lib', kind: 'spike', by: 'fac', note: 'library open day' })]);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 150_000);
});
