import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOnvifSimulator, type OnvifSimulator } from '../../src/onvif/index.ts';
import { pick, soap, type Creds } from './soap-client.ts';

const DEV = '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>';
const admin = (password = 'pw-1'): Creds => ({ user: 'admin', password });

/** ffmpeg/ffprobe processes whose parent is this test process. */
function childFfmpegs(): string[] {
  const out = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => /ffmpeg|ffprobe/.test(l));
}

function ffprobe(url: string): Promise<{ code: number; out: string; json: string }> {
  return new Promise((resolve) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-rtsp_transport', 'udp', '-timeout', '5000000', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', url],
      { timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr, json: stdout }),
    );
  });
}

describe('virtual ONVIF camera over real HTTP', () => {
  let sim: OnvifSimulator;
  let offset = 0;
  const url = (id: string, svc: string) => `http://127.0.0.1:${sim.port}/onvif/${id}/${svc}`;

  beforeAll(async () => {
    sim = await startOnvifSimulator({
      cameras: [
        { id: 'cam-1', name: '东门 East gate', password: 'pw-1', maxTerminationMs: 1500, maxPullTimeoutMs: 5000 },
        { id: 'cam-2', password: 'pw-2', pullPoint: false, ptz: false },
      ],
      video: false,
      now: () => Date.now() + offset,
    });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('answers GetSystemDateAndTime without credentials, in the camera’s own (drifted) clock', async () => {
    sim.setClockOffset('cam-1', 90_000);
    const r = await soap(url('cam-1', 'device_service'), DEV);
    sim.setClockOffset('cam-1', 0);
    expect(r.status).toBe(200);
    const cam = Date.UTC(+pick(r.xml, 'Year')!, +pick(r.xml, 'Month')! - 1, +pick(r.xml, 'Day')!, +pick(r.xml, 'Hour')!, +pick(r.xml, 'Minute')!, +pick(r.xml, 'Second')!);
    expect(cam - Date.now()).toBeGreaterThan(85_000);
    expect(cam - Date.now()).toBeLessThan(95_000);
  });

  it('refuses every other call without a valid UsernameToken digest, counting why', async () => {
    const body = '<GetCapabilities xmlns="http://www.onvif.org/ver10/device/wsdl"><Category>All</Category></GetCapabilities>';
    const before = sim.stats().authFailures;
    const none = await soap(url('cam-1', 'device_service'), body);
    expect(none.status).toBe(400);
    expect(none.xml).toContain('ter:NotAuthorized');
    expect((await soap(url('cam-1', 'device_service'), body, admin('wrong'))).status).toBe(400);
    expect((await soap(url('cam-1', 'device_service'), body, { ...admin(), plaintext: true })).status).toBe(400);
    expect((await soap(url('cam-1', 'device_service'), body, { ...admin(), created: new Date(Date.now() - 3_600_000).toISOString() })).status).toBe(400);
    // Another camera's password does not open this one.
    expect((await soap(url('cam-1', 'device_service'), body, admin('pw-2'))).status).toBe(400);
    const nonce = randomBytes(16);
    const created = new Date().toISOString();
    expect((await soap(url('cam-1', 'device_service'), body, { ...admin(), nonce, created })).status).toBe(200);
    const replay = await soap(url('cam-1', 'device_service'), body, { ...admin(), nonce, created });
    expect(replay.status).toBe(400);
    const after = sim.stats().authFailures;
    const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    expect([d('missing'), d('bad_digest'), d('plaintext'), d('stale'), d('replay')]).toEqual([1, 2, 1, 1, 1]);
  });

  it('answers GetServices with a fault and GetCapabilities with per-camera service addresses', async () => {
    const svc = await soap(url('cam-1', 'device_service'), '<GetServices xmlns="http://www.onvif.org/ver10/device/wsdl"><IncludeCapability>true</IncludeCapability></GetServices>', admin());
    expect(svc.status).toBe(500);
    expect(svc.xml).toContain('ter:ActionNotSupported');
    const cap = await soap(url('cam-1', 'device_service'), '<GetCapabilities xmlns="http://www.onvif.org/ver10/device/wsdl"/>', admin());
    expect(cap.xml).toContain(`<tt:XAddr>${url('cam-1', 'media')}</tt:XAddr>`);
    expect(cap.xml).toContain(`<tt:XAddr>${url('cam-1', 'ptz')}</tt:XAddr>`);
    const cap2 = await soap(url('cam-2', 'device_service'), '<GetCapabilities xmlns="http://www.onvif.org/ver10/device/wsdl"/>', admin('pw-2'));
    expect(cap2.xml).not.toContain('/ptz<');
    const info = await soap(url('cam-1', 'device_service'), '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>', admin());
    expect(pick(info.xml, 'SerialNumber')).toBe('WSIM-00001');
  });

  it('refuses malformed and oversized requests with a clear error and a counter, and unknown paths with 404', async () => {
    const before = sim.stats().badRequests;
    const bad = await fetch(url('cam-1', 'media'), { method: 'POST', body: '<s:Envelope><unclosed>' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('ter:WellFormed');
    const big = await fetch(url('cam-1', 'media'), { method: 'POST', body: 'x'.repeat(100_000) }).catch(() => null);
    expect(big === null || big.status === 413).toBe(true);
    expect((await fetch(url('cam-9', 'media'), { method: 'POST', body: '<a/>' })).status).toBe(404);
    expect(sim.stats().badRequests - before).toBe(3);
  });

  it('goes to a PTZ preset on command and refuses an unknown one', async () => {
    const presets = await soap(url('cam-1', 'ptz'), '<GetPresets xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>profile_main</ProfileToken></GetPresets>', admin());
    expect(presets.xml).toContain('token="preset_gate"');
    const go = (p: string) =>
      soap(url('cam-1', 'ptz'), `<GotoPreset xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>profile_main</ProfileToken><PresetToken>${p}</PresetToken></GotoPreset>`, admin());
    expect((await go('preset_gate')).status).toBe(200);
    expect((await go('preset_nowhere')).xml).toContain('ter:InvalidArgVal');
    expect(sim.camera('cam-1').presetsVisited).toEqual(['preset_gate']);
    expect((await soap(url('cam-2', 'ptz'), '<GetPresets/>', admin('pw-2'))).status).toBe(200); // served, although not advertised
  });

  it('PullPoint: initial states, a long pull woken by tamper, renewal, expiry; a camera without PullPoint faults', async () => {
    const created = await soap(url('cam-1', 'events'), '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"><InitialTerminationTime>PT60S</InitialTerminationTime></CreatePullPointSubscription>', admin());
    expect(created.status).toBe(200);
    const address = pick(created.xml, 'Address')!;
    // The camera grants at most 1.5 s.
    expect(Date.parse(pick(created.xml, 'TerminationTime')!) - Date.parse(pick(created.xml, 'CurrentTime')!)).toBeLessThanOrEqual(2000);
    const pull = (timeout = 'PT2S') => soap(address, `<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>${timeout}</Timeout><MessageLimit>10</MessageLimit></PullMessages>`, admin());
    const first = await pull();
    expect(first.xml.match(/PropertyOperation="Initialized"/g)).toHaveLength(2);
    setTimeout(() => sim.trigger('cam-1', 'tamper', true), 200);
    const t0 = Date.now();
    const woke = await pull();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(woke.xml).toContain('tns1:VideoSource/GlobalSceneChange/ImagingService');
    expect(woke.xml).toContain('Name="State" Value="true"');
    // A too-long Timeout is refused by this camera (like brands that do not support long polls).
    expect((await pull('PT30S')).xml).toContain('ter:InvalidArgVal');
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 700));
      const renewed = await soap(address, '<Renew xmlns="http://docs.oasis-open.org/wsn/b-2"><TerminationTime>PT60S</TerminationTime></Renew>', admin());
      expect(renewed.status).toBe(200);
    }
    expect(sim.camera('cam-1').subscriptions).toBe(1);
    await new Promise((r) => setTimeout(r, 1800));
    const expired = await pull('PT0S');
    expect(expired.status).toBe(500);
    expect(expired.xml).toContain('ResourceUnknown');
    expect(sim.camera('cam-1').subscriptions).toBe(0);
    sim.trigger('cam-1', 'tamper', false);

    const none = await soap(url('cam-2', 'events'), '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"/>', admin('pw-2'));
    expect(none.xml).toContain('ter:ActionNotSupported');
  });

  it('serves a JPEG snapshot behind HTTP Basic; a covered lens makes it dark', async () => {
    const snap = url('cam-1', 'snapshot.jpg');
    expect((await fetch(snap)).status).toBe(401);
    expect((await fetch(snap, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } })).status).toBe(401);
    const auth = { authorization: `Basic ${Buffer.from('admin:pw-1').toString('base64')}` };
    const a = Buffer.from(await (await fetch(snap, { headers: auth })).arrayBuffer());
    expect(a.subarray(0, 2).toString('hex')).toBe('ffd8');
    sim.trigger('cam-1', 'tamper', true);
    const b = Buffer.from(await (await fetch(snap, { headers: auth })).arrayBuffer());
    sim.trigger('cam-1', 'tamper', false);
    expect(b.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(b.length).toBeLessThan(a.length); // a nearly uniform dark frame compresses far better
  });

  it('an offline camera drops connections and comes back', async () => {
    sim.setOnline('cam-2', false);
    await expect(soap(url('cam-2', 'device_service'), DEV)).rejects.toThrow();
    sim.setOnline('cam-2', true);
    expect((await soap(url('cam-2', 'device_service'), DEV)).status).toBe(200);
  });
});

const hasFfmpeg = spawnSync('ffprobe', ['-version']).status === 0;

describe.skipIf(!hasFfmpeg)('virtual camera RTSP test stream (ffmpeg → rtsp-streaming-server)', () => {
  it('streams H.264 to an authenticated puller, refuses others and offline cameras, leaves no ffmpeg behind', async () => {
    const sim = await startOnvifSimulator({ cameras: [{ id: 'cam-v', password: 'pv' }, { id: 'cam-w', password: 'pw' }], video: { width: 320, height: 240, fps: 10 } });
    try {
      await sim.videoReady();
      expect(childFfmpegs().length).toBe(1);
      const base = `rtsp://127.0.0.1:${sim.rtspPort}/cameras`;
      const ok = await ffprobe(`rtsp://admin:pv@127.0.0.1:${sim.rtspPort}/cameras/cam-v`);
      expect(ok.code, ok.out).toBe(0);
      expect(JSON.parse(ok.json).streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
      expect((await ffprobe(`${base}/cam-v`)).code).not.toBe(0);
      expect((await ffprobe(`rtsp://admin:pw@127.0.0.1:${sim.rtspPort}/cameras/cam-v`)).code).not.toBe(0);
      sim.setOnline('cam-w', false);
      expect((await ffprobe(`rtsp://admin:pw@127.0.0.1:${sim.rtspPort}/cameras/cam-w`)).code).not.toBe(0);
    } finally {
      await sim.stop();
    }
    expect(childFfmpegs()).toEqual([]);
  });
});

const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;
if (!canUnshare) console.warn('skipping the WS-Discovery test: `unshare -n` is not permitted here (needs root or user namespaces)');

describe.skipIf(!canUnshare)('WS-Discovery in a private network namespace', () => {
  it('answers a multicast Probe with one ProbeMatch per online camera', () => {
    const child = fileURLToPath(new URL('./discovery-child.ts', import.meta.url));
    const out = execFileSync(
      'unshare',
      ['-n', 'sh', '-c', `ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "${process.execPath}" --import tsx "${child}"`],
      { encoding: 'utf8', timeout: 30_000, cwd: fileURLToPath(new URL('../../../', import.meta.url)) },
    );
    const answers = JSON.parse(out) as string[];
    expect(answers).toHaveLength(2);
    for (const a of answers) {
      expect(a).toContain('urn:uuid:0f5d3a8e-0000-4000-8000-000000000001'); // RelatesTo the probe
      expect(a).toContain('dn:NetworkVideoTransmitter');
    }
    const all = answers.join('\n');
    expect(all).toMatch(/<d:XAddrs>http:\/\/127\.0\.0\.1:\d+\/onvif\/cam-a\/device_service<\/d:XAddrs>/);
    expect(all).toContain('onvif://www.onvif.org/name/Hall%20B');
    expect(all).not.toContain('cam-c');
  });
});
