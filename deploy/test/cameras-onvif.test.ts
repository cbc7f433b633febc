import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInfo } from '@warden/contract';
import { CameraService, FastPathMiss, parseSystemTime, proposalId, RtspSession, SoapClock, type CameraNotification, type DiscoveredCamera } from '@warden/edge/camera/index.ts';
import { cameraUrn, startOnvifSimulator, type OnvifSimulator } from '@warden/simulators/onvif/index.ts';

/**
 * The edge's camera code (the `onvif` npm client, the RTSP probe, the PullPoint loop) against virtual
 * ONVIF cameras over real HTTP and RTSP on 127.0.0.1, and discovery over real multicast inside a
 * private network namespace.
 */

const logger = pino({ level: 'silent' });

async function until<T>(fn: () => T | undefined | null | false, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function childFfmpegs(): string[] {
  const out = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => /ffmpeg/.test(l));
}

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (!hasFfmpeg) console.warn('skipping the camera tests: ffmpeg is not installed (apt-get install ffmpeg)');

describe.skipIf(!hasFfmpeg)('edge cameras against virtual ONVIF cameras', () => {
  let sim: OnvifSimulator;
  let service: CameraService;
  const notes: Array<{ id: string; n: CameraNotification & { ts: number } }> = [];
  const availability: Array<{ id: string; online: boolean; reason: string }> = [];
  const telemetry: Array<{ id: string; metrics: Record<string, number> }> = [];
  const registry = new Registry();

  beforeAll(async () => {
    sim = await startOnvifSimulator({
      cameras: [
        { id: 'cam-gate', name: 'East gate', password: 'gate-secret', maxTerminationMs: 3000 },
        { id: 'cam-hall', password: 'hall-secret', ptz: false, maxPullTimeoutMs: 0 }, // refuses long polls
        { id: 'cam-old', password: 'old-secret', pullPoint: false, clockOffsetMs: 42_000 },
      ],
      video: { width: 320, height: 240, fps: 10 },
    });
    await sim.videoReady();
    const cfg = (id: string, password: string) => ({ id, xaddr: sim.deviceUrl(id), username: 'admin', password });
    service = new CameraService({
      cameras: [cfg('cam-gate', 'gate-secret'), cfg('cam-hall', 'hall-secret'), cfg('cam-old', 'old-secret')],
      cycleMs: 60_000,
      offlineAfter: 2,
      pullTimeoutSeconds: 5,
      pollIntervalMs: 300,
      eventRetryMs: 200,
      // Bounds a failure only: the cameras are in this process on a loaded machine (a 3 s snapshot fetch timed out at
      // load 15); a camera set offline answers 403 at once.
      probeTimeoutMs: 15_000,
      onNotification: (id, n) => notes.push({ id, n }),
      onAvailability: (id, online, reason) => availability.push({ id, online, reason }),
      onTelemetry: (id, metrics) => telemetry.push({ id, metrics }),
      registry,
      logger,
    });
  });

  afterAll(async () => {
    await service?.stop();
    await sim?.stop();
    expect(childFfmpegs()).toEqual([]);
  });

  it('connects, reads device information, profile, stream and snapshot; probes ONVIF and RTSP; measures clock drift', async () => {
    const outcomes = await service.probeAll();
    expect(outcomes.map((o) => [o.id, o.ok])).toEqual([['cam-gate', true], ['cam-hall', true], ['cam-old', true]]);
    expect(availability.filter((a) => a.online).map((a) => a.id).sort()).toEqual(['cam-gate', 'cam-hall', 'cam-old']);
    const [gate] = service.status('cam-gate');
    expect(gate).toMatchObject({
      online: true,
      failures: 0,
      codec: 'H264',
      device: { manufacturer: 'Warden Virtual', model: 'VC-PTZ', serial: 'WSIM-00001' },
      profile: { token: 'profile_main', encoding: 'H264', width: 320, height: 240, fps: 10, ptz: true },
    });
    expect(gate!.streamUri).toBe(`rtsp://127.0.0.1:${sim.rtspPort}/cameras/cam-gate`);
    expect(Math.abs(gate!.driftMs!)).toBeLessThan(2000);
    const [old] = service.status('cam-old');
    expect(old!.driftMs! / 1000).toBeGreaterThan(40);
    expect(old!.driftMs! / 1000).toBeLessThan(44);
    // The camera clock has whole seconds: 42 s ahead reads as 41 to 42 s.
    const drift = telemetry.find((t) => t.id === 'cam-old' && 'clock_drift_s' in t.metrics)!.metrics.clock_drift_s!;
    expect(drift).toBeGreaterThanOrEqual(41);
    expect(drift).toBeLessThanOrEqual(43);
    expect(telemetry).toContainEqual({ id: 'cam-gate', metrics: { stream_width: 320, stream_height: 240, stream_fps: 10 } });
    expect(service.status('cam-hall')[0]!.profile!.ptz).toBe(false);

    const jpg = await service.snapshot('cam-gate');
    expect(jpg.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(sim.stats().authFailures).toEqual({}); // every call was authenticated right
  });

  it('the light probe: the clock by a hand-written GetSystemDateAndTime, DESCRIBE on one kept RTSP connection', async () => {
    // Generous timeouts: a timeout on a loaded machine would drop the kept connection (connects would read 2).
    const clock = new SoapClock(15_000);
    const rtsp = new RtspSession(`rtsp://127.0.0.1:${sim.rtspPort}/cameras/cam-old`, 'admin', 'old-secret', 15_000);
    try {
      const t = await clock.systemTime(sim.deviceUrl('cam-old'));
      expect((t.getTime() - Date.now()) / 1000).toBeGreaterThan(40); // cam-old runs 42 s ahead
      for (let i = 0; i < 3; i++) expect(await rtsp.describe()).toBe('H264');
      expect(rtsp.connects).toBe(1);
      // The camera going away breaks the kept connection's next DESCRIBE (403 while offline); a new one follows.
      sim.setOnline('cam-old', false);
      await expect(rtsp.describe()).rejects.toThrow(/403/);
      sim.setOnline('cam-old', true);
      expect(await rtsp.describe()).toBe('H264');
      const wrong = new RtspSession(`rtsp://127.0.0.1:${sim.rtspPort}/cameras/cam-old`, 'admin', 'nope');
      await expect(wrong.describe()).rejects.toThrow(/401/);
      wrong.close();
    } finally {
      clock.close();
      rtsp.close();
    }
    expect(() => parseSystemTime('<x/>')).toThrow(FastPathMiss);
  });

  it('goes to a PTZ preset by name or token; refuses unknown presets and cameras without PTZ', async () => {
    await service.gotoPreset('cam-gate', 'Gate');
    await service.gotoPreset('cam-gate', 'preset_lobby');
    expect(sim.camera('cam-gate').presetsVisited).toEqual(['preset_gate', 'preset_lobby']);
    await expect(service.gotoPreset('cam-gate', 'Roof')).rejects.toThrow(/no preset Roof/);
    await expect(service.gotoPreset('cam-hall', 'Gate')).rejects.toThrow(/no PTZ/);
  });

  it('PullPoint: motion and tamper arrive as changes; the short subscription is renewed and keeps delivering', async () => {
    await until(() => service.status('cam-gate')[0]!.events?.subscribed, 'cam-gate subscribed');
    sim.trigger('cam-gate', 'motion', true);
    await until(() => notes.find((x) => x.id === 'cam-gate' && x.n.kind === 'motion' && x.n.state), 'motion on cam-gate');
    sim.trigger('cam-gate', 'tamper', true);
    await until(() => notes.find((x) => x.id === 'cam-gate' && x.n.kind === 'tamper' && x.n.state), 'tamper on cam-gate');
    // The camera grants 3 s subscriptions: after 4 s the loop must have renewed, and events still flow.
    await new Promise((r) => setTimeout(r, 4000));
    const ev = service.status('cam-gate')[0]!.events!;
    expect(ev.renewals).toBeGreaterThan(0);
    expect(ev.mode).toBe('pullpoint');
    sim.trigger('cam-gate', 'tamper', false);
    await until(() => notes.find((x) => x.id === 'cam-gate' && x.n.kind === 'tamper' && !x.n.state), 'tamper cleared on cam-gate');
    // Initial "no motion / no tamper" states are not reported as news; each change is reported once.
    expect(notes.filter((x) => x.id === 'cam-gate').map((x) => `${x.n.kind}:${x.n.state}`)).toEqual(['motion:true', 'tamper:true', 'tamper:false']);
    expect(sim.stats().renewals).toBeGreaterThan(0);
  });

  it('falls back to polling a camera that faults on long pulls, and marks one without PullPoint unsupported', async () => {
    await until(() => service.status('cam-hall')[0]!.events?.mode === 'poll', 'cam-hall polled');
    sim.trigger('cam-hall', 'motion', true);
    await until(() => notes.find((x) => x.id === 'cam-hall' && x.n.kind === 'motion' && x.n.state), 'motion on cam-hall by polling');
    await until(() => service.status('cam-old')[0]!.events?.mode === 'unsupported', 'cam-old unsupported', 20_000);
    expect(service.status('cam-old')[0]!.online).toBe(true); // no events is not offline
  });

  it('an unreachable camera goes offline after two failed probes, comes back and re-subscribes', async () => {
    const before = service.status('cam-gate')[0]!.events!.subscriptions;
    sim.setOnline('cam-gate', false);
    expect((await service.probe('cam-gate')).ok).toBe(false);
    expect(availability.filter((a) => a.id === 'cam-gate' && !a.online)).toEqual([]); // debounced
    expect((await service.probe('cam-gate')).ok).toBe(false);
    expect(availability.filter((a) => a.id === 'cam-gate' && !a.online)).toHaveLength(1);
    expect(service.status('cam-gate')[0]!.online).toBe(false);
    sim.setOnline('cam-gate', true);
    expect((await service.probe('cam-gate')).ok).toBe(true);
    expect(availability.filter((a) => a.id === 'cam-gate').map((a) => a.online)).toEqual([true, false, true]);
    await until(() => service.status('cam-gate')[0]!.events!.subscriptions > before, 're-subscription after the outage', 20_000);
    sim.trigger('cam-gate', 'motion', false);
    await until(() => notes.find((x) => x.id === 'cam-gate' && x.n.kind === 'motion' && !x.n.state), 'motion ended after re-subscribing');
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/warden_edge_camera_probes_total\{outcome="failed"\} [1-9]/);
  });

  it('a wrong password is a failed probe, not a crash, and the camera counts the refusal', async () => {
    const bad = new CameraService({
      cameras: [{ id: 'cam-hall', xaddr: sim.deviceUrl('cam-hall'), username: 'admin', password: 'not-it', events: false }],
      offlineAfter: 1,
      onNotification: () => {},
      onAvailability: (id, online, reason) => availability.push({ id: `bad-${id}`, online, reason }),
      logger,
    });
    try {
      const r = await bad.probe('cam-hall');
      expect(r.ok).toBe(false);
      expect(availability.find((a) => a.id === 'bad-cam-hall')).toMatchObject({ online: false, reason: expect.stringMatching(/not authorized/i) });
      expect(sim.stats().authFailures.bad_digest).toBeGreaterThan(0);
    } finally {
      await bad.stop();
    }
  });
});

const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;
if (!canUnshare) console.warn('skipping camera discovery: `unshare -n` is not permitted here (needs root or user namespaces)');

describe.skipIf(!canUnshare)('camera discovery in a private network namespace', () => {
  it('finds every online virtual camera by WS-Discovery with its address, name and PTZ scope', () => {
    const child = fileURLToPath(new URL('./cameras/discovery-child.ts', import.meta.url));
    const out = execFileSync(
      'unshare',
      ['-n', 'sh', '-c', `ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "${process.execPath}" --import tsx "${child}"`],
      { encoding: 'utf8', timeout: 60_000, cwd: fileURLToPath(new URL('../../', import.meta.url)) },
    );
    const { found, port, proposals, changes } = JSON.parse(out) as { found: DiscoveredCamera[]; port: number; proposals: DeviceInfo[]; changes: number };
    expect(found).toHaveLength(39);
    const c7 = found.find((c) => c.urn === cameraUrn('cam-7'));
    expect(c7).toEqual({ urn: cameraUrn('cam-7'), xaddrs: [`http://127.0.0.1:${port}/onvif/cam-7/device_service`], name: 'Camera 7', hardware: 'VC-PTZ', ptz: true });
    expect(found.find((c) => c.urn === cameraUrn('cam-8'))?.ptz).toBe(false);
    expect(found.some((c) => c.urn === cameraUrn('cam-40'))).toBe(false);
    // Proposals for the hub: the 34 found cameras not configured on the gateway, stable ids, address as location.
    expect(proposals).toHaveLength(34);
    expect(changes).toBe(1);
    expect(proposals.some((p) => p.location === `http://127.0.0.1:${port}/onvif/cam-3/device_service`)).toBe(false);
    expect(proposals.find((p) => p.id === proposalId(cameraUrn('cam-7')))).toEqual({
      id: proposalId(cameraUrn('cam-7')),
      kind: 'camera',
      driver: 'onvif-camera',
      name: 'Camera 7 · VC-PTZ',
      location: `http://127.0.0.1:${port}/onvif/cam-7/device_service`,
    });
    for (const p of proposals) expect(p.id).toMatch(/^cam-[0-9a-f]{12}$/);
  });
});
