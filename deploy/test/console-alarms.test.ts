import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayTopic, newId } from '@warden/contract';
import { parseHubConfig, startHub } from '@warden/hub';
import mqtt, { type MqttClient } from 'mqtt';
import { type Browser } from 'playwright-core';
import { DIST, CHROMIUM, ensureBuilt, launchChromium, closeAfterAll } from './browser.ts';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The alarm console in real headless Chromium against the real hub (in-process, ephemeral ports) and its real
 * alarm engine, fed by a real MQTT client speaking the gateway protocol; a security guard signs in and works
 * the alarm.
 */

const GW = 'gw-alarms';
const GW_PASSWORD = 'alarms-test-gateway-pw';
const GUARD = { username: 'guard.li', password: 'guard-li-password', displayName: '李卫' };
const DOOR = 'door-a1';
const CAMERA = 'cam-a1';


let dataDir: string;
let hub: Awaited<ReturnType<typeof startHub>>;
let browser: Browser;
let gateway: MqttClient;
const commands: Array<{ device: string; action: string }> = [];
let seq = 0;

async function publishEvent(device: string, type: string, data: Record<string, unknown>): Promise<void> {
  const record = { id: newId(), seq: ++seq, device, ts: Date.now(), kind: 'event', type, data };
  await gateway.publishAsync(gatewayTopic(GW, 'up'), JSON.stringify({ v: 1, gw: GW, records: [record] }), { qos: 1 });
}

beforeAll(async () => {
  await stat(CHROMIUM);
  dataDir = await mkdtemp(join(tmpdir(), 'warden-alarms-console-'));
  await ensureBuilt();
  const plan = join(dataDir, 'plan.svg');
  await writeFile(plan, '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300"><rect x="20" y="20" width="360" height="260" fill="#dde4ee"/></svg>');
  hub = await startHub(
    parseHubConfig({
      gateways: [{ id: GW, password: GW_PASSWORD }], devices: { registry: [{ id: DOOR, kind: 'door', name: 'Lab door' }, { id: CAMERA, kind: 'camera', name: 'Lab 1F camera' }, { id: 'sos-a1', kind: 'emergency_post', name: 'Lab SOS' }, { id: 'ias-a1', kind: 'intrusion_zone', name: 'Lab zone', zone: '2F' }, { id: 'smoke-a1', kind: 'fire_sensor', name: 'Lab smoke', zone: '2F' }].map((d) => ({ gateway: GW, building: 'lab', zone: '1F', ...d })) }, // the hub owns the registry (issue 9): inventories only report
     
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir,
      admin: { password: 'alarms-test-admin-pw' },
      users: [{ ...GUARD, roles: ['security'] }],
      dashboard: { dir: DIST },
      site: { plan, width: 400, height: 300, markers: [{ device: DOOR, x: 120, y: 150 }] },
    }),
    { logger: false },
  );
  await hub.provisionGateway(GW, 'Alarm console test gateway', GW_PASSWORD);
  gateway = await mqtt.connectAsync(hub.mqttUrl, { clientId: `warden-edge-${GW}`, username: GW, password: GW_PASSWORD, reconnectPeriod: 0 });
  // Plays the gateway's side of remote door commands: records what reached it.
  gateway.on('message', (_t, payload) => commands.push(JSON.parse(payload.toString()) as { device: string; action: string }));
  await gateway.subscribeAsync(gatewayTopic(GW, 'cmd'), { qos: 1 });
  const now = Date.now();
  await gateway.publishAsync(gatewayTopic(GW, 'status'), JSON.stringify({ v: 1, gw: GW, state: 'online', ts: now, agentVersion: 'test', startedAt: now, backlog: 0 }), {
    qos: 1,
    retain: true,
  });
  await gateway.publishAsync(
    gatewayTopic(GW, 'inventory'),
    JSON.stringify({
      v: 1,
      gw: GW,
      ts: now,
      devices: [
        { id: DOOR, kind: 'door', driver: 'door-controller', name: 'Lab door', building: 'lab', zone: '1F' },
        { id: CAMERA, kind: 'camera', driver: 'onvif', name: 'Lab 1F camera', building: 'lab', zone: '1F' },
        { id: 'sos-a1', kind: 'emergency_post', driver: 'emergency-post', name: 'Lab SOS', building: 'lab', zone: '1F' },
        { id: 'ias-a1', kind: 'intrusion_zone', driver: 'intrusion-zone', name: 'Lab zone', building: 'lab', zone: '2F' },
        { id: 'smoke-a1', kind: 'fire_sensor', driver: 'fire-sensor', name: 'Lab smoke', building: 'lab', zone: '2F' },
      ],
    }),
    { qos: 1, retain: true },
  );
  await publishEvent(DOOR, 'device.online', {});
  browser = await launchChromium();
});

closeAfterAll(() => [browser, gateway, hub, dataDir]);

describe('alarm console in a real browser against the real hub', () => {
  it('a forced door raises an alarm with its sound; the guard acknowledges it with a note; it moves to history under their name', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${hub.httpUrl}/#/alarms`);
    await page.getByTestId('login-username').fill(GUARD.username);
    await page.getByTestId('login-password').fill(GUARD.password);
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    await page.getByTestId('alarm-tab-active').click();
    const sound = page.getByTestId('alarm-sound');
    await sound.waitFor();
    expect(await sound.getAttribute('data-state')).toBe('quiet');

    // Raised after the page is open: it must arrive over socket.io, and the console starts sounding.
    await publishEvent(DOOR, 'door.forced', { door: 1 });
    const row = page.locator(`[data-testid="alarm-row"][data-type="door.forced"][data-device="${DOOR}"]`);
    await row.waitFor();
    const alarmId = (await row.getAttribute('data-alarm'))!;
    expect(await row.getAttribute('data-priority')).toBe('high');
    expect(await row.textContent()).toContain('门被强行打开');
    await page.locator('[data-testid="alarm-sound"][data-state="alerting"]').waitFor();

    // The mute toggle silences it but keeps the indicator visible.
    await sound.click();
    await page.locator('[data-testid="alarm-sound"][data-state="muted"]').waitFor();
    await sound.click();
    await page.locator('[data-testid="alarm-sound"][data-state="alerting"]').waitFor();

    // The site plan blinks the door's marker while its alarm is open; the guard opens the door remotely.
    await page.getByTestId('nav-site').click();
    const marker = page.locator(`[data-testid="site-marker"][data-device="${DOOR}"]`);
    await page.locator(`[data-testid="site-marker"][data-device="${DOOR}"][data-alarm="true"]`).waitFor();
    await marker.click();
    await page.getByTestId('door-open').click();
    await page.locator('[data-testid="door-command-status"][data-status="sent"]').waitFor();
    await expect.poll(() => commands.some((c) => c.device === DOOR && c.action === 'door.unlock')).toBe(true);

    // Acknowledge with a note.
    await page.getByTestId('nav-alarms').click();
    const activeRow = page.locator(`[data-testid="alarm-row"][data-alarm="${alarmId}"]`);
    await activeRow.getByTestId('alarm-ack').click();
    await activeRow.getByTestId('alarm-note').fill('到场查看，门已关好');
    await activeRow.getByTestId('alarm-note-submit').click();
    await activeRow.waitFor({ state: 'detached' });
    await page.locator('[data-testid="alarm-sound"][data-state="quiet"]').waitFor();

    // In history, under the guard's name with the note.
    await page.getByTestId('alarm-tab-history').click();
    const hist = page.locator(`[data-testid="history-row"][data-alarm="${alarmId}"]`);
    await hist.waitFor();
    expect(await hist.getAttribute('data-state')).toBe('acknowledged');
    expect(await hist.getByTestId('history-ack-by').textContent()).toContain(GUARD.username);
    expect(await hist.getByTestId('history-ack-by').textContent()).toContain('到场查看，门已关好');

    // Its detail: the timeline has the raise and the acknowledgement, the zone's camera is linked; resolving it needs a note.
    await hist.getByRole('link').click();
    const detail = page.locator(`[data-testid="alarm-detail"][data-alarm="${alarmId}"]`);
    await detail.waitFor();
    await page.locator('[data-testid="timeline-entry"][data-kind="acknowledged"]').waitFor();
    expect(await page.locator('[data-testid="timeline-entry"][data-kind="raised"]').count()).toBe(1);
    expect(await page.getByTestId('alarm-camera').allTextContents()).toEqual([CAMERA]);
    await page.getByTestId('alarm-resolve').click();
    await page.getByTestId('alarm-note').fill('误报：门禁锁舌故障，已报修');
    await page.getByTestId('alarm-note-submit').click();
    await page.locator(`[data-testid="alarm-detail"][data-state="resolved"]`).waitFor();
    await page.locator('[data-testid="timeline-entry"][data-kind="resolved"]').waitFor();

    // Two more alarms, acknowledged together with one note; the hub's linkage popped the zone's camera and notified security.
    await page.getByTestId('alarm-back').click();
    await publishEvent('sos-a1', 'emergency.call', { button: 'call' });
    await publishEvent('ias-a1', 'intrusion.alarm', { zone: 'Z1' });
    await page.locator('[data-testid="alarm-row"][data-type="emergency.call"][data-priority="critical"]').waitFor();
    await page.locator('[data-testid="alarm-row"][data-type="intrusion.alarm"]').waitFor();
    await page.locator(`[data-testid="camera-popups"] :text("${CAMERA}")`).first().waitFor();
    // The linkage config notifies security of emergency calls: the guard gets a notice wherever they are.
    await page.locator('[data-testid="alarm-popup"][data-notify="true"]').first().waitFor();
    await page.getByTestId('alarm-filter-priority').selectOption('critical');
    expect(await page.getByTestId('alarm-row').count()).toBe(2);
    await page.getByTestId('alarm-select-all').check();
    await page.getByTestId('alarm-bulk-note').fill('批量确认：已派人');
    await page.getByTestId('alarm-bulk-ack').click();
    await page.getByTestId('alarms-empty').waitFor();
    await page.locator('[data-testid="alarm-sound"][data-state="quiet"]').waitFor();
    await page.getByTestId('alarm-tab-acknowledged').click();
    await page.locator('[data-testid="alarm-row"][data-state="acknowledged"][data-type="intrusion.alarm"]').waitFor();
    expect(await page.getByTestId('alarm-row').count()).toBe(2);

    // A fire alarm whose gateway released the doors on its own (its report arrives with the alarm after an outage).
    await page.getByTestId('alarm-tab-active').click();
    await publishEvent('smoke-a1', 'fire.alarm', { smoke: 9 });
    await publishEvent('smoke-a1', 'linkage.failsafe', {
      trigger: 'fire.alarm',
      reason: 'hub_down',
      actions: [{ device: DOOR, action: 'door.hold_open', command: 'CMDFAILSAFE0001' }],
    });
    const fire = page.locator('[data-testid="alarm-row"][data-type="fire.alarm"]');
    await fire.waitFor();
    await fire.getByTestId('alarm-open').click();
    const failsafe = page.locator('[data-testid="alarm-failsafe-entry"][data-reason="hub_down"]');
    await failsafe.waitFor();
    expect(await failsafe.textContent()).toContain(DOOR);
    // The hub files the report in the alarm's timeline too.
    await page.locator('[data-testid="timeline-entry"][data-kind="linkage.failsafe"]').waitFor();

    // The hub audited the remote door command and the operator's actions.
    const admin = (await (await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'alarms-test-admin-pw' }) })).json()) as { token: string };
    const audit = (await (await fetch(`${hub.httpUrl}/api/audit?limit=50`, { headers: { authorization: `Bearer ${admin.token}` } })).json()) as { entries: Array<{ actor: string; action: string }> };
    const byGuard = audit.entries.filter((e) => e.actor === GUARD.username).map((e) => e.action);
    expect(byGuard).toEqual(expect.arrayContaining(['command.send', 'alarm.acknowledge', 'alarm.resolve']));

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
