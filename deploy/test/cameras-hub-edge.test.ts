import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { CameraStatus } from '@warden/contract';
import type { CampusPlan } from '@warden/simulators';
import { startOnvifSimulator, type OnvifSimulator } from '@warden/simulators/onvif/index.ts';
import { freePort, runWarden, eventually, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { writeSystemLayout } from '../src/layout.ts';
import { ADMIN_PASSWORD, api, login } from './helpers.ts';

const GW = 'gw-cam';
const GATE_CAM = 'cam-gate-1';
const HALL_CAM = 'cam-hall-1';

interface StoredEvent {
  id: string;
  device: string;
  type: string;
  ts: number;
  data: Record<string, unknown>;
}
interface AlarmView {
  id: string;
  type: string;
  device: string;
  state: string;
  conditionCleared: boolean;
}

function childFfmpegs(): string[] {
  const out = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => /ffmpeg/.test(l));
}

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (!hasFfmpeg) console.warn('skipping the camera end-to-end test: ffmpeg is not installed (apt-get install ffmpeg)');

/**
 * Cameras end to end, as separate processes over real TCP: virtual ONVIF cameras (HTTP/SOAP + RTSP
 * from ffmpeg, in this process) ← the gateway (warden edge, `onvif` transport) → the hub (warden hub).
 * A camera going dark becomes a `device.trouble` alarm through the existing offline rule and resolves
 * when it is back, and its linkage turns the PTZ camera to a preset; tamper becomes a latching
 * `camera.tamper` alarm; an operator's go-to-preset command moves the PTZ camera and comes back as a command.result.
 */
describe.skipIf(!hasFfmpeg)('cameras: virtual ONVIF cameras → edge → hub', () => {
  const procs = new Set<WardenProcess>();
  let dir: string | undefined;
  let sim: OnvifSimulator | undefined;

  afterAll(async () => {
    for (const p of [...procs].reverse()) await p.stop();
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(childFfmpegs()).toEqual([]);
  });

  it('offline → trouble alarm → back online; tamper → alarm; PTZ preset on command', { timeout: 150_000 }, async () => {
    sim = await startOnvifSimulator({
      cameras: [
        { id: GATE_CAM, name: 'East gate', password: 'gate-cam-secret' },
        // 30 s fast: its drift shows on the camera status page.
        { id: HALL_CAM, name: 'Main hall', password: 'hall-cam-secret', ptz: false, clockOffsetMs: 30_000 },
      ],
      video: { width: 320, height: 240, fps: 5 },
    });
    await sim.videoReady();

    dir = mkdtempSync(join(tmpdir(), 'warden-e2e-cam-'));
    const [httpPort, mqttPort, fieldPort] = [await freePort(), await freePort(), await freePort()];
    const building = 'lib';
    // The cameras are not simulator devices of a scenario: the plan has the gateway, its edge config gets them.
    const plan = { gateways: [{ id: GW, name: 'Library', building, devices: [] }] } as unknown as CampusPlan;
    const layout = writeSystemLayout(plan, { dataDir: dir, httpPort, mqttPort, fieldPortBase: fieldPort, adminPassword: ADMIN_PASSWORD });
    const camera = (id: string, password: string, zone: string) => ({
      id,
      driver: 'onvif-camera',
      name: id,
      building,
      zone,
      options: { xaddr: sim!.deviceUrl(id), password, probeSeconds: 5, offlineAfter: 2 },
    });
    const edgeFile = layout.edgeConfigs.get(GW)!;
    const edgeConfig = parse(readFileSync(edgeFile, 'utf8')) as Record<string, unknown>;
    edgeConfig.devices = [camera(GATE_CAM, 'gate-cam-secret', '1F'), camera(HALL_CAM, 'hall-cam-secret', '2F')];
    writeFileSync(edgeFile, stringify(edgeConfig));
    // A short offline debounce at the hub, so the test does not wait the default minute.
    const hubConfig = parse(readFileSync(layout.hubConfig, 'utf8')) as Record<string, Record<string, unknown> | undefined>;
    // Linkage: when a camera goes silent, the PTZ camera turns to cover its area.
    hubConfig.alarms = { ...(hubConfig.alarms ?? {}), offlineDebounceSeconds: 1, linkage: [{ type: 'device.trouble', ptz: [{ camera: GATE_CAM, preset: 'Lobby' }] }] };
    // The hub owns the registry: the cameras are registered there, the gateway's inventory only reports them.
    hubConfig.devices = {
      registry: [
        { id: GATE_CAM, gateway: GW, kind: 'camera', building, zone: '1F' },
        { id: HALL_CAM, gateway: GW, kind: 'camera', building, zone: '2F' },
      ],
    };
    writeFileSync(layout.hubConfig, stringify(hubConfig));

    const base = `http://127.0.0.1:${httpPort}`;
    const start = (args: string[]) => {
      const p = runWarden(args);
      procs.add(p);
      return p;
    };
    start(['hub', '--config', layout.hubConfig]);
    await waitForHttp(`${base}/api/health`);
    const token = await login(base);
    start(['edge', '--config', edgeFile]);

    const devices = async () => (await api<{ devices: Array<{ id: string; online: boolean; kind: string }> }>(base, token, `/api/devices?gateway=${GW}`)).devices;
    await eventually(async () => (await devices()).filter((d) => d.online && d.kind === 'camera').length === 2, 60_000, 'both cameras online at the hub');
    const events = async (query: string) => (await api<{ events: StoredEvent[] }>(base, token, `/api/events?${query}&limit=500`)).events;
    const alarms = async (type: string) => (await api<{ alarms: AlarmView[] }>(base, token, `/api/alarms?type=${type}`)).alarms;

    // Probe facts arrive as telemetry: the stream size from the camera's profile.
    // 1. Tamper → a latching camera.tamper alarm; the scene back to normal marks its condition cleared.
    sim.trigger(GATE_CAM, 'tamper', true);
    await eventually(async () => (await alarms('camera.tamper')).find((a) => a.device === GATE_CAM), 30_000, 'camera.tamper alarm');
    sim.trigger(GATE_CAM, 'tamper', false);
    await eventually(async () => (await alarms('camera.tamper')).find((a) => a.device === GATE_CAM && a.conditionCleared), 30_000, 'tamper condition cleared');
    expect((await events(`type=camera.tamper&device=${GATE_CAM}`)).map((e) => e.data.state).sort()).toEqual([false, true]);

    // 2. Motion is recorded as an event, not an alarm.
    sim.trigger(HALL_CAM, 'motion', true);
    await eventually(async () => (await events(`type=camera.motion&device=${HALL_CAM}`)).some((e) => e.data.state === true), 30_000, 'camera.motion event');

    // 3. PTZ: an operator sends the gate camera to its "Gate" preset.
    const res = await fetch(`${base}/api/devices/${GATE_CAM}/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'camera.goto_preset', params: { preset: 'Gate' } }),
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const { commandId } = (await res.json()) as { commandId: string };
    await eventually(async () => (await events(`type=command.result&device=${GATE_CAM}`)).find((e) => e.data.command === commandId && e.data.ok === true), 30_000, 'goto_preset confirmed');
    expect(sim.camera(GATE_CAM).presetsVisited).toEqual(['preset_gate']);

    // 4. The hall camera goes dark: offline after two failed probes → device.trouble (a silent camera) → back.
    sim.setOnline(HALL_CAM, false);
    await eventually(async () => (await alarms('device.trouble')).find((a) => a.device === HALL_CAM && a.state === 'raised'), 60_000, 'device.trouble for the dark camera');
    expect((await devices()).find((d) => d.id === HALL_CAM)!.online).toBe(false);
    // ... and the linkage turned the PTZ camera to the hall's preset, confirmed by the camera.
    await eventually(() => sim!.camera(GATE_CAM).presetsVisited.length === 2, 30_000, 'PTZ preset by linkage');
    expect(sim.camera(GATE_CAM).presetsVisited).toEqual(['preset_gate', 'preset_lobby']);
    const trouble = (await alarms('device.trouble')).find((a) => a.device === HALL_CAM)!;
    const detail = await api<{ timeline: Array<{ kind: string; detail: Record<string, unknown> }> }>(base, token, `/api/alarms/${trouble.id}`);
    await eventually(async () => (await api<{ timeline: Array<{ kind: string; detail: Record<string, unknown> }> }>(base, token, `/api/alarms/${trouble.id}`)).timeline.some((t) => t.kind === 'linkage.result' || (t.kind === 'linkage.command' && t.detail.action === 'camera.goto_preset')), 30_000, 'linkage on the alarm timeline');
    expect(detail.timeline.some((t) => t.kind === 'linkage.command' && t.detail.action === 'camera.goto_preset' && t.detail.device === GATE_CAM)).toBe(true);
    sim.setOnline(HALL_CAM, true);
    await eventually(async () => (await devices()).find((d) => d.id === HALL_CAM)!.online, 60_000, 'the camera back online');
    await eventually(async () => (await alarms('device.trouble')).find((a) => a.device === HALL_CAM && (a.state === 'resolved' || a.conditionCleared)), 30_000, 'trouble cleared');
    expect((await events(`type=device.offline&device=${HALL_CAM}`)).length).toBe(1);

    // 5. Camera status (GET /api/cameras/status): every camera with state, last good probe, stream, drift, last event.
    type Status = { cameras: CameraStatus[]; total: number; counts: Record<string, number>; buildings: string[] };
    const status = (q = '') => api<Status>(base, token, `/api/cameras/status${q}`);
    await eventually(async () => (await status()).cameras.every((c) => c.codec === 'H264' && c.lastGoodProbe !== null), 30_000, 'health reports at the hub');
    const all = await status();
    expect(all.total).toBe(2);
    expect(all.counts).toMatchObject({ online: 2, offline: 0 });
    expect(all.buildings).toEqual([building]);
    const gate = all.cameras.find((c) => c.id === GATE_CAM)!;
    expect(gate).toMatchObject({ state: 'online', width: 320, height: 240, fps: 5, codec: 'H264', building, zone: '1F', tampered: false });
    expect(Math.abs(gate.driftS!)).toBeLessThanOrEqual(1);
    const hall = all.cameras.find((c) => c.id === HALL_CAM)!;
    expect(hall.driftS).toBeGreaterThanOrEqual(29);
    expect(hall.driftS).toBeLessThanOrEqual(31);
    expect(hall.lastEvent).toMatchObject({ type: 'device.online' });
    expect((await status('?minDriftS=20')).cameras.map((c) => c.id)).toEqual([HALL_CAM]);
    expect((await status('?state=offline')).total).toBe(0);
    expect((await status('?q=gate&limit=1')).cameras.map((c) => c.id)).toEqual([GATE_CAM]);
    const refused = await fetch(`${base}/api/cameras/status?limit=5000`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(400);
  });
});
