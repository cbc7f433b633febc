import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayTopic, newId } from '@warden/contract';
import { parseHubConfig, startHub } from '@warden/hub';
import mqtt, { type MqttClient } from 'mqtt';
import { type Browser, type Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST, CHROMIUM, ensureBuilt, launchChromium, closeAfterAll } from './browser.ts';

/**
 * The Trust leftovers of issue 9 in real headless Chromium against the real hub (in-process, ephemeral ports), fed by
 * a real MQTT client speaking the gateway protocol. On the adoption screen the admin rejects a proposed device with a
 * reason (its records stay refused, the gateway's next inventory does not propose it again) and un-rejects another;
 * on the gateways screen the admin rotates the gateway's MQTT password (confirmation, shown once, copied, hidden; the
 * gateway's session dropped, the old password refused, the new one admitted) and revokes a certificate by fingerprint.
 * A security user gets neither screen.
 */

const GW = 'gw-adm';
const GW_PASSWORD = 'gateway-admin-test-pw';
const ADMIN_PW = 'gateway-admin-console-pw';
const SEC_PW = 'gateway-admin-security-pw';
const ROGUE = 'cam-rogue-01';
const SPARE = 'cam-spare-02';
const FINGERPRINT = 'AB:'.repeat(31) + 'CD';
const INVENTORY = [
  { id: 'door-1', kind: 'door', driver: 'test-driver', building: 'library' },
  { id: ROGUE, kind: 'camera', driver: 'onvif-camera', name: 'Discovered: NoName IPC', location: 'http://10.9.9.9/onvif/device_service' },
  { id: SPARE, kind: 'camera', driver: 'onvif-camera', name: 'Discovered: VC-2', location: 'http://10.9.9.10/onvif/device_service' },
];

let dataDir: string;
let hub: Awaited<ReturnType<typeof startHub>>;
let browser: Browser;
let gateway: MqttClient;
let gatewayClosed = false;
let adminToken: string;

const rest = async <T,>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${hub.httpUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${adminToken}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
};
const rejectedTotal = async (reason: string): Promise<number> => {
  const text = await (await fetch(`${hub.httpUrl}/api/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('warden_hub_rejected_total{') && l.includes(`reason="${reason}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
};
async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const connectGateway = (password: string) => mqtt.connectAsync(hub.mqttUrl, { clientId: `warden-edge-${GW}`, username: GW, password, reconnectPeriod: 0, connectTimeout: 5_000 });
async function signIn(page: Page, username: string, password: string, hash: string): Promise<void> {
  await page.goto(`${hub.httpUrl}/#/${hash}`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

beforeAll(async () => {
  await stat(CHROMIUM);
  dataDir = await mkdtemp(join(tmpdir(), 'warden-gateway-admin-console-'));
  await ensureBuilt();
  hub = await startHub(
    parseHubConfig({
      gateways: [{ id: GW, name: 'Library gateway', password: GW_PASSWORD }],
      devices: { registry: [{ id: 'door-1', gateway: GW, kind: 'door', building: 'library' }] },
      users: [{ username: 'guard', roles: ['security'], password: SEC_PW }],
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir,
      admin: { password: ADMIN_PW },
      dashboard: { dir: DIST },
    }),
    { logger: false },
  );
  gateway = await connectGateway(GW_PASSWORD);
  gateway.on('close', () => (gatewayClosed = true));
  const now = Date.now();
  await gateway.publishAsync(gatewayTopic(GW, 'status'), JSON.stringify({ v: 1, gw: GW, state: 'online', ts: now, agentVersion: 'test', startedAt: now, backlog: 0 }), { qos: 1, retain: true });
  await gateway.publishAsync(gatewayTopic(GW, 'inventory'), JSON.stringify({ v: 1, gw: GW, ts: now, devices: INVENTORY }), { qos: 1, retain: true });
  const login = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PW }) });
  adminToken = ((await login.json()) as { token: string }).token;
  await until(async () => (await rest<{ devices: unknown[] }>('/api/devices?status=proposed')).body.devices.length === 2, 'two proposals');
  browser = await launchChromium();
}, 120_000);

closeAfterAll(() => [browser, gateway, hub, dataDir, dataDir && `${dataDir}.faces-key`]);

describe('gateway administration in a real browser against the real hub', () => {
  it('the admin rejects a proposal with a reason and un-rejects another; rotates the gateway password and revokes a certificate', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await signIn(page, 'admin', ADMIN_PW, 'proposals');

    // Reject: the reason is required; confirmed, the row leaves the proposals for the rejected list.
    const row = page.locator(`[data-testid="proposal-row"][data-device="${ROGUE}"]`);
    await row.waitFor();
    await row.getByTestId('proposal-reject').click();
    const form = page.locator(`[data-testid="proposal-reject-row"][data-device="${ROGUE}"]`);
    expect(await form.getByTestId('proposal-reject-confirm').isDisabled()).toBe(true);
    await form.getByTestId('proposal-reject-reason').fill('不是本校设备：未知厂商');
    await form.getByTestId('proposal-reject-confirm').click();
    await page.getByTestId('proposal-message').filter({ hasText: `已拒绝 ${ROGUE}` }).waitFor();
    await row.waitFor({ state: 'detached' });
    const rejectedRow = page.locator(`[data-testid="rejected-row"][data-device="${ROGUE}"]`);
    await rejectedRow.waitFor();
    expect(await rejectedRow.getByTestId('rejected-reason').textContent()).toBe('不是本校设备：未知厂商');
    expect(await rejectedRow.textContent()).toContain('admin');

    // The hub's word: rejected with the reason, audited; its records refused; the next inventory does not propose it.
    const dev = (await rest<{ devices: Array<{ id: string; status: string; rejection?: { reason: string; by: string } }> }>('/api/devices?status=rejected')).body.devices;
    expect(dev).toEqual([expect.objectContaining({ id: ROGUE, status: 'rejected', rejection: expect.objectContaining({ reason: '不是本校设备：未知厂商', by: 'admin' }) })]);
    const audit = (await rest<{ entries: Array<{ action: string; target: string; detail: { reason?: string } }> }>('/api/audit?action=device.')).body.entries;
    expect(audit.find((e) => e.action === 'device.reject')).toMatchObject({ target: ROGUE, detail: { reason: '不是本校设备：未知厂商' } });
    const refusedBefore = await rejectedTotal('device_not_adopted');
    await gateway.publishAsync(gatewayTopic(GW, 'up'), JSON.stringify({ v: 1, gw: GW, records: [{ id: newId(), seq: 1, device: ROGUE, ts: Date.now(), kind: 'event', type: 'device.online', data: {} }] }), { qos: 1 });
    await gateway.publishAsync(gatewayTopic(GW, 'inventory'), JSON.stringify({ v: 1, gw: GW, ts: Date.now(), devices: INVENTORY }), { qos: 1, retain: true });
    await until(async () => (await rejectedTotal('device_not_adopted')) >= refusedBefore + 2, 'the record and the inventory entry refused');
    expect((await rest<{ devices: Array<{ id: string }> }>('/api/devices?status=proposed')).body.devices.map((d) => d.id)).toEqual([SPARE]);

    // Reject the spare camera too, then change our mind: un-reject brings it back to the proposals.
    const spare = page.locator(`[data-testid="proposal-row"][data-device="${SPARE}"]`);
    await spare.getByTestId('proposal-reject').click();
    await page.getByTestId('proposal-reject-reason').fill('duplicate discovery');
    await page.getByTestId('proposal-reject-confirm').click();
    await page.locator(`[data-testid="rejected-table"][data-total="2"]`).waitFor();
    await page.locator(`[data-testid="rejected-row"][data-device="${SPARE}"]`).getByTestId('rejected-unreject').click();
    await spare.waitFor();
    await page.locator(`[data-testid="rejected-table"][data-total="1"]`).waitFor();

    // Rotate the gateway's password: a confirmation first (cancel changes nothing), then the password shown once.
    await page.getByTestId('nav-gateways').click();
    const gwRow = page.locator(`[data-testid="gateway-row"][data-gateway="${GW}"]`);
    await gwRow.getByTestId('gateway-credentials').click();
    const panel = page.locator(`[data-testid="gateway-credentials-panel"][data-gateway="${GW}"]`);
    await panel.getByTestId('rotate-password').click();
    await panel.getByTestId('rotate-cancel').click();
    await panel.getByTestId('rotate-password').click();
    expect(await panel.getByTestId('rotate-confirmation').textContent()).toContain(GW);
    expect(gatewayClosed).toBe(false);
    await panel.getByTestId('rotate-confirm').click();
    const password = (await panel.getByTestId('rotate-password-value').textContent())!.trim();
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(await panel.getByTestId('rotate-result').textContent()).toContain('已断开 1 个会话');
    await panel.getByTestId('rotate-copy').click();
    await panel.getByTestId('rotate-copy').filter({ hasText: '已复制' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(password);
    // Never stored by the console.
    const stored = await page.evaluate(() => [localStorage, sessionStorage].flatMap((st) => Array.from({ length: st.length }, (_, i) => st.getItem(st.key(i)!) ?? '')).join('\n'));
    expect(stored).not.toContain(password);
    await panel.getByTestId('rotate-hide').click();
    await panel.getByTestId('rotate-result').waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(password);

    // The gateway's session was dropped; the old password is refused, the new one logs in.
    await until(async () => gatewayClosed, 'the gateway session closed');
    await expect(connectGateway(GW_PASSWORD)).rejects.toThrow();
    gateway = await connectGateway(password);
    gatewayClosed = false;
    gateway.on('close', () => (gatewayClosed = true));

    // Revoke a certificate: a malformed fingerprint cannot be sent; a good one after confirmation.
    await panel.getByTestId('revoke-fingerprint').fill('not-a-fingerprint');
    expect(await panel.getByTestId('revoke-certificate').isDisabled()).toBe(true);
    await panel.getByTestId('revoke-fingerprint').fill(FINGERPRINT);
    await panel.getByTestId('revoke-certificate').click();
    expect(await panel.getByTestId('revoke-confirmation').textContent()).toContain(FINGERPRINT);
    await panel.getByTestId('revoke-confirm').click();
    await panel.getByTestId('revoke-result').waitFor();
    expect(await panel.getByTestId('revoke-result').textContent()).toContain('已吊销');
    await until(async () => gatewayClosed, 'the gateway session closed by the revocation');
    const trail = (await rest<{ entries: Array<{ action: string; target: string; detail: Record<string, unknown> }> }>('/api/audit?action=gateway.')).body.entries;
    expect(trail.map((e) => e.action)).toEqual(expect.arrayContaining(['gateway.credentials_rotated', 'gateway.certificate_revoked']));
    expect(JSON.stringify(trail)).not.toContain(password);
    expect(pageErrors).toEqual([]);
    await context.close();

    // A security user has neither screen.
    const guardContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const guard = await guardContext.newPage();
    await signIn(guard, 'guard', SEC_PW, 'events');
    await guard.getByTestId('nav-events').waitFor();
    expect(await guard.getByTestId('nav-gateways').count()).toBe(0);
    expect(await guard.getByTestId('nav-proposals').count()).toBe(0);
    await guardContext.close();
  });
});
