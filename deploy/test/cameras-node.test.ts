import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { stringify } from 'yaml';
import { parseHubConfig, startHub, type Hub } from '@warden/hub';
import { TICKET_PUBLIC_KEY_FILE, loadOrCreateTicketKeys } from '@warden/hub/video/tickets.ts';
import { startOnvifSimulator, type OnvifSimulator } from '@warden/simulators/onvif/index.ts';
import { eventually } from '../src/testing.ts';
import { CHROMIUM, DIST, closeAfterAll, ensureBuilt, launchChromium } from './browser.ts';

const ADMIN_PASSWORD = 'cameras-node-admin';
const GW = 'gw-cam';
const CAM = 'cam-node-1';
const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (!hasFfmpeg) console.warn('skipping the relay node browser test: ffmpeg is not installed (apt-get install ffmpeg)');

/** ffmpeg children of a process (`ps --ppid`: direct children only). */
function ffmpegsOf(pid: number): string[] {
  const r = spawnSync('ps', ['--ppid', String(pid), '-o', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes('ffmpeg') && l.includes(`/cameras/${CAM}`));
}

/**
 * Scale-out of live video end to end: the virtual ONVIF camera's RTSP ← a relay node (`warden relay`, its own process
 * and listener) → WebSocket → JSMpeg in real Chromium on the hub's console, admitted by the hub's ticket. The hub has
 * no stream source for the camera and runs no ffmpeg: the node does.
 */
describe.skipIf(!hasFfmpeg)('cameras: the console plays a camera served by a relay node (real Chromium)', () => {
  let sim: OnvifSimulator | undefined;
  let hub: Hub | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;
  let node: ChildProcess | undefined;
  let nodeExit: Promise<number | null> | undefined;

  beforeAll(async () => {
    await stat(CHROMIUM);
    await ensureBuilt();
    sim = await startOnvifSimulator({ cameras: [{ id: CAM, name: CAM, password: `${CAM}-secret` }], video: { width: 320, height: 240, fps: 10 } });
    await sim.videoReady();
    dataDir = await mkdtemp(join(tmpdir(), 'warden-cameras-node-'));
    const hubDir = join(dataDir, 'hub');
    mkdirSync(hubDir, { recursive: true });
    // The key pair the hub makes on its first start, made first here so the node (started first, for its port) can read the public key.
    loadOrCreateTicketKeys(hubDir);
    const relayYaml = join(dataDir, 'relay.yaml');
    writeFileSync(
      relayYaml,
      stringify({
        id: 'node-1',
        listen: { host: '127.0.0.1', port: 0 },
        hubPublicKey: join(hubDir, TICKET_PUBLIC_KEY_FILE),
        maxStreams: 2,
        width: 320,
        height: 240,
        transport: 'udp',
        cameras: { [CAM]: { url: `rtsp://127.0.0.1:${sim.rtspPort}/cameras/${CAM}`, username: 'admin', password: `${CAM}-secret` } },
      }),
    );
    node = spawn(process.execPath, [WARDEN, 'relay', '--config', relayYaml], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: process.env.CAM_DEBUG ? 'info' : 'warn' } });
    nodeExit = new Promise((r) => node!.once('exit', (code) => r(code)));
    let out = '';
    node.stderr!.on('data', (d: Buffer) => process.env.CAM_DEBUG && process.stderr.write(d));
    const nodeUrl = await new Promise<string>((resolve, reject) => {
      node!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /(ws:\/\/127\.0\.0\.1:[0-9]+)\/video/.exec(out);
        if (m) resolve(m[1]!);
      });
      void nodeExit!.then((code) => reject(new Error(`relay node exited (${code}): ${out}`)));
    });
    hub = await startHub(
      parseHubConfig({
        http: { port: 0 },
        mqtt: { port: 0 },
        dataDir: hubDir,
        admin: { password: ADMIN_PASSWORD },
        dashboard: { dir: DIST },
        gateways: [{ id: GW, password: 'gw-cam-password' }],
        devices: { registry: [{ id: CAM, gateway: GW, kind: 'camera', building: 'lib', zone: '1F', name: 'Node gate' }] },
        // No stream source for the camera on the hub: only the node has it.
        video: { nodes: { 'node-1': { url: nodeUrl, cameras: [CAM] } } },
      }),
      process.env.CAM_DEBUG ? {} : { logger: false },
    );
    browser = await launchChromium();
  }, 120_000);

  const stopNode = async () => {
    if (!node || node.exitCode !== null) return;
    node.kill('SIGTERM');
    expect(await nodeExit).toBe(0);
  };
  closeAfterAll(() => [browser, hub, stopNode, sim, dataDir]);

  async function signIn(): Promise<Page> {
    const page = await browser!.newPage();
    page.on('pageerror', (e) => console.warn('page error:', e.message));
    await page.goto(hub!.httpUrl);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    return page;
  }

  it('a live view decodes frames from the node; the node runs the ffmpeg, the hub none; closing stops it; the node stops cleanly', { timeout: 120_000 }, async () => {
    const page = await signIn();
    await page.getByTestId('nav-cameras').click();
    await expect.poll(() => page.getByTestId('camera-item').count(), { timeout: 15_000 }).toBe(1);
    await page.locator(`[data-testid="camera-item"][data-camera="${CAM}"]`).click();
    const view = page.locator(`[data-testid="live-view"][data-camera="${CAM}"]`);
    await expect.poll(() => view.getAttribute('data-state'), { timeout: 30_000 }).toBe('playing');
    expect(ffmpegsOf(node!.pid!)).toHaveLength(1);
    expect(ffmpegsOf(process.pid)).toEqual([]);

    const lit = await page.evaluate((cam) => {
      const src = document.querySelector<HTMLCanvasElement>(`[data-testid="live-view"][data-camera="${cam}"] canvas`)!;
      const c = document.createElement('canvas');
      c.width = src.width;
      c.height = src.height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(src, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 60) n++;
      return { w: c.width, h: c.height, lit: n };
    }, CAM);
    expect(lit).toMatchObject({ w: 320, h: 240 });
    expect(lit.lit).toBeGreaterThan(320 * 240 * 0.3);

    await view.getByTestId('live-close').click();
    await eventually(() => ffmpegsOf(node!.pid!).length === 0, 10_000, 'the node’s ffmpeg gone after the view closed');
    await page.close();
    const pid = node!.pid!;
    await stopNode();
    expect(ffmpegsOf(pid)).toEqual([]);
  });
});
