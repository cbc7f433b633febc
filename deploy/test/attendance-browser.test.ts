import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import mqtt, { type MqttClient } from 'mqtt';
import { type Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatewayTopic, newId } from '@warden/contract';
import { parseHubConfig, startHub } from '@warden/hub';
import { localInstant } from '@warden/hub/attendance/tz.ts';
import { CHROMIUM, DASHBOARD, launchChromium, closeAfterAll } from './browser.ts';

/**
 * Dorm attendance in real headless Chromium against the real hub fed by a gateway over MQTT: a dorm manager sees
 * tonight's absent list of their own building only (another building's absent student appears in no view and no
 * live-feed frame), approves a leave that changes a student's state, and exports the list as XLSX that exceljs
 * reads back. The hub clock is injected (a fixed night), so the test passes on any date.
 */
const ADMIN_PASSWORD = 'attendance-console-admin-pw';
const DM_PASSWORD = 'attendance-console-dm-pw';
const GW_PASSWORD = 'attendance-console-gw-pw';
const NIGHT = '2026-11-30';
const at = (hhmm: string) => localInstant(NIGHT, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)), 'Asia/Shanghai');
const ROSTER = `学号,姓名,楼栋,楼层,房间
s1,李伟,B1,3,301
s2,王芳,B1,3,301
s3,张敏,B1,4,402
s4,陈杰,B2,1,101
`;

let dir: string;
let now = at('20:00');
let hub: Awaited<ReturnType<typeof startHub>>;
let browser: Browser;
let gw: MqttClient;

async function rest(token: string, path: string, method = 'GET', body?: unknown): Promise<unknown> {
  const res = await fetch(`${hub.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

beforeAll(async () => {
  await stat(CHROMIUM);
  dir = await mkdtemp(join(tmpdir(), 'warden-attendance-console-'));
  const { build } = await import('vite');
  await build({ root: DASHBOARD, configFile: join(DASHBOARD, 'vite.config.ts'), logLevel: 'warn', build: { outDir: join(dir, 'dist'), emptyOutDir: true } });
  hub = await startHub(
    parseHubConfig({
      devices: { registry: [{ id: 'b1-gate', gateway: 'gw-dorms', kind: 'face_terminal', building: 'B1' }, { id: 'b2-gate', gateway: 'gw-dorms', kind: 'face_terminal', building: 'B2' }] }, // the hub owns the registry (issue 9): inventories only report
     
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir: join(dir, 'hub'),
      admin: { password: ADMIN_PASSWORD },
      dashboard: { dir: join(dir, 'dist') },
      gateways: [{ id: 'gw-dorms', password: GW_PASSWORD }],
      users: [{ username: 'dm1', roles: ['dorm'], password: DM_PASSWORD }],
      faces: { dormManagers: { dm1: ['B1'] } },
    }),
    { logger: false, clock: () => now },
  );
  const login = (await (await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) })).json()) as { token: string };
  await rest(login.token, '/api/attendance/settings', 'PUT', { reportDelayMinutes: 20, reportCheckSeconds: 1 });
  await rest(login.token, '/api/attendance/roster', 'POST', { format: 'csv', data: Buffer.from(ROSTER).toString('base64'), effective: '2026-09-01', apply: true });

  gw = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'warden-edge-gw-dorms', username: 'gw-dorms', password: GW_PASSWORD, reconnectPeriod: 0 });
  const devices = [
    { id: 'b1-gate', kind: 'face_terminal', driver: 'face-terminal', building: 'B1' },
    { id: 'b2-gate', kind: 'face_terminal', driver: 'face-terminal', building: 'B2' },
  ];
  await gw.publishAsync(gatewayTopic('gw-dorms', 'inventory'), JSON.stringify({ v: 1, gw: 'gw-dorms', ts: now, devices }), { qos: 1, retain: true });
  const acked = new Promise<void>((resolve) => gw.on('message', (_t, m) => (JSON.parse(m.toString()) as { upTo: number }).upTo >= 5 && resolve()));
  await gw.subscribeAsync(gatewayTopic('gw-dorms', 'ack'), { qos: 1 });
  const rec = (seq: number, device: string, person: string, direction: 'in' | 'out', ts: number) => ({ id: newId(), seq, device, ts, kind: 'event', type: 'attendance.checkin', data: { method: 'face', person, direction, score: 0.8 } });
  const records = [
    rec(1, 'b1-gate', 's1', 'in', at('21:10')),
    rec(2, 'b1-gate', 's2', 'out', at('19:00')),
    rec(3, 'b1-gate', 's3', 'out', at('19:30')),
    rec(4, 'b2-gate', 's4', 'out', at('18:40')),
    rec(5, 'b2-gate', 's4', 'out', at('18:41')),
  ];
  await gw.publishAsync(gatewayTopic('gw-dorms', 'up'), JSON.stringify({ v: 1, gw: 'gw-dorms', records }), { qos: 1 });
  await acked;
  browser = await launchChromium();
}, 180_000);

closeAfterAll(() => [browser, gw, hub, dir]);

describe('Dorm attendance page in a real browser', () => {
  it('a dorm manager sees only their building, approves a leave and exports the list as XLSX', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    // Every live-feed frame the page receives, to prove the other building never reaches it.
    const frames: string[] = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString())));
    await page.goto(hub.httpUrl);
    await page.getByTestId('login-username').fill('dm1');
    await page.getByTestId('login-password').fill(DM_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('nav-attendance').click();
    await page.getByRole('heading', { name: '宿舍考勤' }).waitFor();

    // Curfew (23:00 on a Monday) passes while the page is open: the list is pushed live at 23:20 and shows up.
    now = at('23:21');
    await page.getByTestId('attendance-notice').filter({ hasText: 'B1' }).waitFor();
    await page.locator('[data-testid="attendance-row"][data-student="s2"][data-state="absent"]').waitFor();
    await page.locator('[data-testid="attendance-row"][data-student="s3"][data-state="absent"]').waitFor();
    expect(await page.locator('[data-testid="attendance-row"]').count()).toBe(2);
    expect(await page.locator('[data-testid="attendance-building-card"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-building')))).toEqual(['B1']);
    // The other building's absent student: not in the list, the board, the building filter or anywhere on the page.
    await page.getByTestId('attendance-board').locator('summary').click();
    await page.locator('[data-testid="board-student"][data-student="s1"][data-state="in"]').waitFor();
    const text = await page.locator('body').innerText();
    expect(text).not.toContain('陈杰');
    expect(text).not.toContain('B2');
    expect(await page.locator('[data-student="s4"]').count()).toBe(0);

    // Approving tonight's leave for s2 turns the absent into leave.
    await page.locator('[data-testid="attendance-row"][data-student="s2"]').getByTestId('attendance-grant-leave').click();
    await page.locator('[data-testid="board-student"][data-student="s2"][data-state="leave"]').waitFor();
    await page.locator('[data-testid="attendance-row"][data-student="s2"]').waitFor({ state: 'detached' });
    await page.locator('[data-testid="leave-row"][data-student="s2"][data-status="approved"]').waitFor();

    // Export: the XLSX the browser downloads reads back with exceljs and holds exactly B1's remaining absentee.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('attendance-export-xlsx').click()]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await download.path())!);
    const rows: string[][] = [];
    wb.worksheets[0]!.eachRow((r) => rows.push((r.values as unknown[]).slice(1).map((v) => String(v ?? ''))));
    expect(rows[0]!.slice(0, 7)).toEqual(['night', 'building', 'floor', 'room', 'student', 'name', 'state']);
    expect(rows.slice(1).map((r) => [r[1], r[4], r[5], r[6]])).toEqual([['B1', 's3', '张敏', 'absent']]);

    // Nothing about B2 or its student in any live frame.
    expect(frames.some((f) => f.includes('"attendance"'))).toBe(true);
    expect(frames.filter((f) => f.includes('s4') || f.includes('陈杰') || f.includes('"B2"'))).toEqual([]);
    await context.close();
  });
});
