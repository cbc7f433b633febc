import { request } from 'node:http';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario } from '../../src/scenario.ts';
import { runScenario } from '../../src/runner.ts';
import { SCENARIO_DIR } from '../../src/cli.ts';
import { startScenarioCameras } from '../../src/onvif/scenario-cameras.ts';

const hasFfmpeg = spawnSync('ffprobe', ['-version']).status === 0;
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

/** `warden sim` with a `cameras` section: virtual ONVIF cameras driven by the timeline, protocols only. */

const yaml = (timeline: string) => `
name: cams
gateways:
  - { id: gw-x, url: "mqtt://127.0.0.1:1", devices: [] }
cameras:
  port: 0
  list:
    - { id: cam-a, password: pa }
    - { id: cam-b, password: pb, ptz: false }
timeline:
${timeline}
`;

function soapClock(url: string): Promise<string> {
  const body = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>';
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/soap+xml' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('camera scenarios', () => {
  it('takes a camera offline and back, tampers with one and drifts a clock on the timeline', async () => {
    const s = parseScenario(
      yaml(`  - { at: 0.1s, device: cam-a, do: tamper }
  - { at: 0.2s, device: cam-b, do: offline }
  - { at: 0.3s, device: cam-a, do: drift, arg: 42 }`),
    );
    const run = await runScenario(s, { logger: pino({ level: 'silent' }) });
    try {
      const a = run.devices.get('cam-a')!;
      const b = run.devices.get('cam-b')!;
      expect(a.type).toBe('onvif-camera');
      const url = (b.state() as { deviceUrl: string }).deviceUrl;
      expect(await soapClock(url)).toMatch(/UTCDateTime/);
      await run.done;
      expect(a.state()).toMatchObject({ tampered: true, clockOffsetMs: 42_000 });
      expect(b.state()).toMatchObject({ online: false });
      await expect(soapClock(url)).rejects.toThrow(); // an unreachable camera: the connection drops
      await b.act('online');
      expect(await soapClock(url)).toMatch(/UTCDateTime/);
      await expect(a.act('explode')).rejects.toThrow(/no action "explode"/);
    } finally {
      await run.stop();
    }
  });

  it('refuses an unknown camera action or a duplicate id with the path', () => {
    expect(() => parseScenario(yaml('  - { at: 1s, device: cam-a, do: smoke }'))).toThrow(/timeline\/0\/do: a camera has no action "smoke"/);
    expect(() => parseScenario(yaml('  - { at: 1s, device: cam-a, do: tamper }').replace('{ id: cam-b, password: pb, ptz: false }', '{ id: cam-a, password: pb }'))).toThrow(/cameras\/list\/1\/id/);
  });

  // npm start's layout gives the hub's relay fixed stream URLs: the RTSP port (and a small, cheap test pattern) from the scenario.
  it.skipIf(!hasFfmpeg)('video as an object: a fixed RTSP port and frame size for every camera', { timeout: 60_000 }, async () => {
    const rtspPort = await freePort();
    const cams = await startScenarioCameras({ port: 0, video: { rtspPort, width: 160, height: 96, fps: 5 }, list: [{ id: 'cam-a', password: 'pa' }] });
    try {
      expect(cams.sim.rtspPort).toBe(rtspPort);
      // Asynchronously: the RTSP server runs in this process.
      const probe = await promisify(execFile)('ffprobe', ['-v', 'error', '-rtsp_transport', 'udp', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', `rtsp://admin:pa@127.0.0.1:${rtspPort}/cameras/cam-a`], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(probe.stdout.trim(), probe.stderr).toBe('160,96');
    } finally {
      await cams.stop();
    }
    expect(() => parseScenario(yaml('  - { at: 1s, device: cam-a, do: tamper }').replace('port: 0', 'port: 0\n  video: { rtspPort: 70000 }'))).toThrow(/cameras\/video/);
  });

  it('the shipped camera-outage scenario is valid', () => {
    const s = loadScenario(`${SCENARIO_DIR}camera-outage.yaml`);
    expect(s.cameras!.list.map((c) => c.id)).toEqual(['cam-lib-1f-01', 'cam-lib-2f-01', 'cam-lib-gate-01']);
  });
});
