import { spawnSync } from 'node:child_process';
import { mkdtemp, stat } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import mqtt from 'mqtt';
import { VIDEO_CLOSE, gatewayTopic, newId, videoPath } from '@warden/contract';
import { parseHubConfig, startHub, type Hub } from '@warden/hub';
import { startOnvifSimulator, type OnvifSimulator } from '@warden/simulators/onvif/index.ts';
import { eventually } from '../src/testing.ts';
import { CHROMIUM, DIST, closeAfterAll, ensureBuilt, launchChromium } from './browser.ts';

const ADMIN_PASSWORD = 'cameras-live-admin';
const FAC_PASSWORD = 'cameras-live-facilities';
const GW = 'gw-cam';
const CAMS = ['cam-gate-1', 'cam-hall-1'];
const DOOR = 'door-lib-1';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (!hasFfmpeg) console.warn('skipping the live video browser test: ffmpeg is not installed (apt-get install ffmpeg)');

/** ffmpeg processes pulling this camera's stream (the relay's, not the simulator's publisher). */
function relayFfmpegs(sim: OnvifSimulator, camera: string): string[] {
  const r = spawnSync('pgrep', ['-f', `127.0.0.1:${sim.rtspPort}/cameras/${camera}`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * Live video end to end in real Chromium: a virtual ONVIF camera's RTSP stream (ffmpeg → rtsp-streaming-server)
 * ← the hub's relay (ffmpeg, MPEG-1 in MPEG-TS) → WebSocket → JSMpeg on the console's camera page.
 */
// Session 2's "ffmpeg still running 30 s after the last view closed" was a socket the console leaked: JSMpeg starts
// its source once its WASM decoder has compiled, which can be after the view unmounted and destroyed the player;
// that late start opened a second socket nobody closed (dashboard/src/lib/video.ts now opens none after destroy).
describe('cameras: live video in the console (real Chromium)', () => {
  let sim: OnvifSimulator | undefined;
  let hub: Hub | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;

  beforeAll(async () => {
    await stat(CHROMIUM);
    await ensureBuilt();
    sim = await startOnvifSimulator({
      cameras: CAMS.map((id) => ({ id, name: id, password: `${id}-secret` })),
      video: { width: 320, height: 240, fps: 10 },
    });
    await sim.videoReady();
    dataDir = await mkdtemp(join(tmpdir(), 'warden-cameras-live-'));
    const hubDir = join(dataDir, 'hub');
    mkdirSync(hubDir, { recursive: true });
    hub = await startHub(
      parseHubConfig({
        http: { port: 0 },
        mqtt: { port: 0 },
        dataDir: hubDir,
        admin: { password: ADMIN_PASSWORD },
        dashboard: { dir: DIST },
        gateways: [{ id: GW, password: 'gw-cam-password' }],
        devices: {
          registry: [
            ...CAMS.map((id, i) => ({ id, gateway: GW, kind: 'camera', building: 'lib', zone: `${i + 1}F`, name: id === CAMS[0] ? 'East gate' : 'Main hall' })),
            { id: DOOR, gateway: GW, kind: 'door', building: 'lib', zone: '1F', name: 'Library door' },
          ],
        },
        users: [{ username: 'energy', roles: ['facilities'], password: FAC_PASSWORD }],
        // Stream sources (hub.yaml `video:`); a cap of one stream to see the refusal.
        video: {
          maxStreams: 1,
          width: 320,
          height: 240,
          transport: 'udp',
          cameras: Object.fromEntries(
            CAMS.map((id) => [id, { url: `rtsp://127.0.0.1:${sim!.rtspPort}/cameras/${id}`, onvif: sim!.deviceUrl(id), username: 'admin', password: `${id}-secret` }]),
          ),
        },
      }),
      // CAM_DEBUG=1 prints the hub's log (the relay's viewer joined / stream stopped lines).
      process.env.CAM_DEBUG ? {} : { logger: false },
    );
    browser = await launchChromium();
  }, 120_000);

  // The hub stopped, none of its relay's ffmpeg processes is left.
  const noRelayLeft = () => {
    if (sim) for (const c of CAMS) expect(relayFfmpegs(sim, c)).toEqual([]);
  };
  closeAfterAll(() => [browser, hub, noRelayLeft, sim, dataDir]);

  async function signIn(username: string, password: string): Promise<Page> {
    const page = await browser!.newPage();
    page.on('pageerror', (e) => console.warn('page error:', e.message));
    await page.goto(hub!.httpUrl);
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
    return page;
  }

  /** A fingerprint of the canvas' pixels (copied through a 2D canvas, so WebGL or 2D rendering both read back). */
  const pixels = (page: Page, camera: string) =>
    page.evaluate((cam) => {
      const src = document.querySelector<HTMLCanvasElement>(`[data-testid="live-view"][data-camera="${cam}"] canvas`)!;
      const c = document.createElement('canvas');
      c.width = src.width;
      c.height = src.height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(src, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      let lit = 0;
      for (let i = 0; i < d.length; i += 4) {
        sum = (sum * 31 + d[i]! + d[i + 1]! * 3 + d[i + 2]! * 7) % 1_000_000_007;
        if (d[i]! + d[i + 1]! + d[i + 2]! > 60) lit++;
      }
      return { w: c.width, h: c.height, sum, lit };
    }, camera);

  it('a live view decodes frames, a second camera beyond the cap is refused with a message, closing stops ffmpeg', { timeout: 120_000 }, async () => {
    const page = await signIn('admin', ADMIN_PASSWORD);
    page.on('console', (m) => {
      if (m.type() === 'error') console.warn('browser:', m.text());
    });
    await page.getByTestId('nav-cameras').click();
    await expect.poll(() => page.getByTestId('camera-item').count(), { timeout: 15_000 }).toBe(2);

    await page.locator(`[data-testid="camera-item"][data-camera="${CAMS[0]}"]`).click();
    const view = page.locator(`[data-testid="live-view"][data-camera="${CAMS[0]}"]`);
    await expect.poll(() => view.getAttribute('data-state'), { timeout: 30_000 }).toBe('playing');
    expect(relayFfmpegs(sim!, CAMS[0]!).length).toBe(1);

    // The frames decode: the picture (a test pattern with a running clock) is lit and changes between two reads.
    const first = await pixels(page, CAMS[0]!);
    expect(first.w).toBe(320);
    expect(first.h).toBe(240);
    expect(first.lit).toBeGreaterThan(first.w * first.h * 0.3);
    await eventually(async () => (await pixels(page, CAMS[0]!)).sum !== first.sum, 15_000, 'the canvas changes');

    // A second camera while the cap (1) is used: a clear message, no second ffmpeg.
    await page.locator(`[data-testid="camera-item"][data-camera="${CAMS[1]}"]`).click();
    const refused = page.locator(`[data-testid="live-view"][data-camera="${CAMS[1]}"] [data-testid="live-ended"]`);
    await expect.poll(() => refused.getAttribute('data-end'), { timeout: 15_000 }).toBe('streamLimit');
    expect(await refused.textContent()).toMatch(/limit/i);
    expect(relayFfmpegs(sim!, CAMS[1]!)).toEqual([]);

    // Closing the view: the last viewer left, ffmpeg ends and no process is left.
    await view.getByTestId('live-close').click();
    await expect.poll(() => page.locator(`[data-testid="live-view"][data-camera="${CAMS[0]}"]`).count(), { timeout: 5_000 }).toBe(0);
    await eventually(() => relayFfmpegs(sim!, CAMS[0]!).length === 0, 30_000, 'the relay’s ffmpeg gone');
    await page.close();
  });

  it('a forced door: the linkage pops its zone camera’s live view on the open console, and the alarm detail shows its snapshot', { timeout: 120_000 }, async () => {
    const page = await signIn('admin', ADMIN_PASSWORD);
    await expect.poll(() => page.getByTestId('nav-cameras').count(), { timeout: 15_000 }).toBe(1);
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor({ timeout: 15_000 });
    const gw = await mqtt.connectAsync(hub!.mqttUrl, { clientId: `warden-edge-${GW}`, username: GW, password: 'gw-cam-password', reconnectPeriod: 0 });
    try {
      const now = Date.now();
      await gw.publishAsync(gatewayTopic(GW, 'status'), JSON.stringify({ v: 1, gw: GW, state: 'online', ts: now, agentVersion: 'test', startedAt: now, backlog: 0 }), { qos: 1, retain: true });
      const record = { id: newId(), seq: 1, device: DOOR, ts: Date.now(), kind: 'event', type: 'door.forced', data: { door: 1 } };
      await gw.publishAsync(gatewayTopic(GW, 'up'), JSON.stringify({ v: 1, gw: GW, records: [record] }), { qos: 1 });

      // The popup plays the camera of the door's zone (1F: the east gate), whatever page is open.
      const popup = page.locator('[data-testid="alarm-popup"]');
      const view = popup.locator(`[data-testid="live-view"][data-camera="${CAMS[0]}"]`);
      await expect.poll(() => view.getAttribute('data-state'), { timeout: 30_000 }).toBe('playing');
      expect(await popup.locator(`[data-testid="live-view"][data-camera="${CAMS[1]}"]`).count()).toBe(0);
      expect(relayFfmpegs(sim!, CAMS[0]!).length).toBe(1);

      // The alarm's detail: the snapshot the hub took of that camera when the linkage named it.
      await popup.locator('a').first().click();
      const snap = page.locator(`[data-testid="snapshot"][data-camera="${CAMS[0]}"]`);
      await expect.poll(() => snap.getAttribute('data-loaded'), { timeout: 30_000 }).toBe('true');
      const natural = await snap.locator('img').evaluate((img) => (img as HTMLImageElement).naturalWidth);
      expect(natural).toBeGreaterThan(0);

      // Dismissing the popup closes its view: the relay's ffmpeg ends.
      await popup.getByTestId('popup-dismiss').click();
      await eventually(() => relayFfmpegs(sim!, CAMS[0]!).length === 0, 30_000, 'the relay’s ffmpeg gone after the popup closed');
    } finally {
      await gw.endAsync(true);
      await page.close();
    }
  });

  it('refuses a role without camera rights and a missing token, with close codes', { timeout: 60_000 }, async () => {
    const page = await signIn('energy', FAC_PASSWORD);
    await expect.poll(() => page.getByTestId('nav-devices').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('nav-cameras').count()).toBe(0);
    const token = await page.evaluate(() => (JSON.parse(sessionStorage.getItem('warden.session')!) as { token: string }).token);
    const closeOf = (path: string) =>
      page.evaluate(
        (url) =>
          new Promise<{ code: number; reason: string; bytes: number }>((resolve) => {
            const ws = new WebSocket(url);
            let bytes = 0;
            ws.binaryType = 'arraybuffer';
            ws.onmessage = (e) => (bytes += (e.data as ArrayBuffer).byteLength);
            ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, bytes });
          }),
        `${hub!.httpUrl.replace('http', 'ws')}${path}`,
      );
    const forbidden = await closeOf(`${videoPath(CAMS[0]!)}?token=${encodeURIComponent(token)}`);
    expect(forbidden).toMatchObject({ code: VIDEO_CLOSE.forbidden, bytes: 0 });
    expect(await closeOf(videoPath(CAMS[0]!))).toMatchObject({ code: VIDEO_CLOSE.unauthorized, bytes: 0 });
    expect(await closeOf(`${videoPath(CAMS[0]!)}?token=not-a-token`)).toMatchObject({ code: VIDEO_CLOSE.unauthorized, bytes: 0 });
    expect(relayFfmpegs(sim!, CAMS[0]!)).toEqual([]);
    await page.close();
  });
});
