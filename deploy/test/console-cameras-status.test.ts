import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayTopic, newId } from '@warden/contract';
import { parseHubConfig, startHub } from '@warden/hub';
import mqtt, { type MqttClient } from 'mqtt';
import { type Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST, CHROMIUM, ensureBuilt, launchChromium, closeAfterAll } from './browser.ts';

/**
 * The camera status page and the device adoption screen in real headless Chromium against the real hub
 * (in-process, ephemeral ports), fed by a real MQTT client speaking the gateway protocol: 1,311 adopted cameras,
 * health reports, one camera offline, one tampered, one drifting; the gateway's inventory proposes a camera
 * found by WS-Discovery (its address in `location`), which the admin adopts with a building and zone.
 */

const GW = 'gw-cams';
const GW_PASSWORD = 'cams-test-gateway-pw';
const ADMIN_PW = 'cams-test-admin-pw';
const N = 1311;
const id = (i: number) => `cam-${String(i).padStart(4, '0')}`;
const NEW_CAM = 'cam-d41d8cd98f00';
const NEW_XADDR = 'http://10.20.3.17/onvif/device_service';

let dataDir: string;
let hub: Awaited<ReturnType<typeof startHub>>;
let browser: Browser;
let gateway: MqttClient;
let seq = 0;

async function publish(records: Array<{ device: string; type: string; data: Record<string, unknown>; ts?: number }>): Promise<void> {
  const out = records.map((r) => ({ id: newId(), seq: ++seq, device: r.device, ts: r.ts ?? Date.now(), kind: 'event', type: r.type, data: r.data }));
  await gateway.publishAsync(gatewayTopic(GW, 'up'), JSON.stringify({ v: 1, gw: GW, records: out }), { qos: 1 });
}

beforeAll(async () => {
  await stat(CHROMIUM);
  dataDir = await mkdtemp(join(tmpdir(), 'warden-cams-console-'));
  await ensureBuilt();
  const registry = Array.from({ length: N }, (_, k) => ({ id: id(k + 1), gateway: GW, kind: 'camera' as const, building: k < 100 ? 'library' : 'teaching', zone: '1F', name: `Camera ${k + 1}` }));
  hub = await startHub(
    parseHubConfig({ gateways: [{ id: GW, password: GW_PASSWORD }], devices: { registry }, http: { port: 0 }, mqtt: { port: 0 }, dataDir, admin: { password: ADMIN_PW }, dashboard: { dir: DIST } }),
    { logger: false },
  );
  await hub.provisionGateway(GW, 'Camera console test gateway', GW_PASSWORD);
  gateway = await mqtt.connectAsync(hub.mqttUrl, { clientId: `warden-edge-${GW}`, username: GW, password: GW_PASSWORD, reconnectPeriod: 0 });
  const now = Date.now();
  await gateway.publishAsync(gatewayTopic(GW, 'status'), JSON.stringify({ v: 1, gw: GW, state: 'online', ts: now, agentVersion: 'test', startedAt: now, backlog: 0 }), { qos: 1, retain: true });
  // The inventory lists the configured cameras and one found by WS-Discovery, not adopted yet: a proposal.
  await gateway.publishAsync(
    gatewayTopic(GW, 'inventory'),
    JSON.stringify({
      v: 1,
      gw: GW,
      ts: now,
      devices: [
        ...registry.map((d) => ({ id: d.id, kind: 'camera', driver: 'onvif-camera', name: d.name, building: d.building, zone: d.zone })),
        { id: NEW_CAM, kind: 'camera', driver: 'onvif-camera', name: 'Discovered: VC-PTZ', location: NEW_XADDR },
      ],
    }),
    { qos: 1, retain: true },
  );
  // Every camera probed fine; cam-0002 then goes offline, cam-0003 is tampered, cam-0004 runs 42 s fast.
  for (let k = 0; k < N; k += 200) {
    const batch = [];
    for (let i = k; i < Math.min(N, k + 200); i++) {
      batch.push({ device: id(i + 1), type: 'device.online', data: {}, ts: now - 60_000 });
      batch.push({ device: id(i + 1), type: 'camera.health', data: { drift_s: i === 3 ? 42 : 0, width: 1920, height: 1080, fps: 25, codec: 'H264' }, ts: now - 30_000 });
    }
    await publish(batch);
  }
  await publish([
    { device: id(2), type: 'device.offline', data: { reason: '2 failed probes: ONVIF timeout' } },
    { device: id(3), type: 'camera.tamper', data: { state: true } },
  ]);
  browser = await launchChromium();
}, 120_000);

closeAfterAll(() => [browser, gateway, hub, dataDir]);

describe('camera status and device adoption in a real browser against the real hub', () => {
  it('lists 1,311 cameras a page at a time, filters by state, text and drift; the admin adopts a discovered camera', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${hub.httpUrl}/#/cameraStatus`);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PW);
    await page.getByTestId('login-submit').click();

    // All cameras counted, one page of rows drawn.
    const table = page.getByTestId('camera-status-table');
    await page.locator(`[data-testid="camera-status-table"][data-total="${N}"]`).waitFor();
    await page.locator('[data-testid="camera-counts"][data-offline="1"][data-tampered="1"]').waitFor();
    expect(await page.getByTestId('camera-counts').getAttribute('data-online')).toBe(String(N - 1));
    expect(await table.getByTestId('camera-status-row').count()).toBe(100);
    const first = table.locator(`[data-testid="camera-status-row"][data-camera="${id(1)}"]`);
    expect(await first.textContent()).toContain('1920×1080 @25 H264');
    await page.getByTestId('camera-next').click();
    await table.locator(`[data-testid="camera-status-row"][data-camera="${id(101)}"]`).waitFor();

    // Offline only: the one camera, with its last event.
    await page.getByTestId('camera-state').selectOption('offline');
    await page.locator('[data-testid="camera-status-table"][data-total="1"]').waitFor();
    const offline = table.locator(`[data-testid="camera-status-row"][data-camera="${id(2)}"][data-state="offline"]`);
    expect(await offline.textContent()).toContain('设备离线');
    await page.getByTestId('camera-state').selectOption('');

    // Drifting cameras, then a text search.
    await page.getByTestId('camera-drifting').check();
    await page.locator('[data-testid="camera-status-table"][data-total="1"]').waitFor();
    expect(await table.locator(`[data-camera="${id(4)}"]`).getByTestId('camera-drift').textContent()).toBe('+42 s');
    await page.getByTestId('camera-drifting').uncheck();
    await page.getByTestId('camera-search').fill('Camera 1311');
    await page.locator('[data-testid="camera-status-table"][data-total="1"]').waitFor();
    await table.locator(`[data-camera="${id(1311)}"]`).waitFor();

    // The adoption screen: the discovered camera with its gateway and address; adopted with a building and zone.
    await page.getByTestId('nav-proposals').click();
    const row = page.locator(`[data-testid="proposal-row"][data-device="${NEW_CAM}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(GW);
    expect(await row.getByTestId('proposal-address').textContent()).toBe(NEW_XADDR);
    expect(await row.getByTestId('proposal-adopt').isDisabled()).toBe(true); // a building first
    await row.getByTestId('proposal-building').fill('library');
    await row.getByTestId('proposal-zone').fill('2F');
    await row.getByTestId('proposal-name').fill('Library 2F east');
    await row.getByTestId('proposal-adopt').click();
    await page.getByTestId('proposal-message').filter({ hasText: NEW_CAM }).waitFor();
    await row.waitFor({ state: 'detached' });

    // The hub's registry now has it adopted, in its place; the camera status lists it (unknown until it reports).
    const token = await page.evaluate(() => {
      for (const store of [localStorage, sessionStorage])
        for (let i = 0; i < store.length; i++) {
          const v = store.getItem(store.key(i)!) ?? '';
          const m = /"token":"([^"]+)"/.exec(v);
          if (m) return m[1]!;
        }
      return null;
    });
    expect(token).toBeTruthy();
    const devices = (await (await fetch(`${hub.httpUrl}/api/devices?kind=camera&building=library`, { headers: { authorization: `Bearer ${token}` } })).json()) as { devices: Array<{ id: string; status: string; zone: string | null; name: string | null }> };
    expect(devices.devices.find((d) => d.id === NEW_CAM)).toMatchObject({ status: 'adopted', zone: '2F', name: 'Library 2F east' });
    const st = (await (await fetch(`${hub.httpUrl}/api/cameras/status?q=${NEW_CAM}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { cameras: Array<{ id: string; state: string }> };
    expect(st.cameras).toEqual([expect.objectContaining({ id: NEW_CAM, state: 'unknown' })]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
