import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayTopic, newId, type Snapshot } from '@warden/contract';
import { parseHubConfig, startHub, type Hub } from '@warden/hub';
import { startOnvifSimulator, type OnvifSimulator } from '@warden/simulators/onvif/index.ts';
import { eventually } from '../src/testing.ts';

const GW = 'gw-snap';
const GW_PASSWORD = 'gw-snap-password';
const CAM = 'cam-lab-1';
const CAM_NO_ONVIF = 'cam-lab-2';
const DOOR = 'door-lab-1';
const FACE = 'face-dorm-1';
const FACE_CAM = 'cam-dorm-1';
const ADMIN = 'snapshots-admin-pw';
const USERS = {
  guard: { roles: ['security'], password: 'guard-password-1' },
  meter: { roles: ['facilities'], password: 'meter-password-1' },
  warden7: { roles: ['dorm'], password: 'warden7-password-1' },
  warden9: { roles: ['dorm'], password: 'warden9-password-1' },
} as const;
const DAY = 86_400_000;

/**
 * Snapshots on alarm and face events against the virtual ONVIF camera over real HTTP: the hub asks the camera's
 * media service for its snapshot URI (WS-Security digest) and GETs the JPEG (HTTP Basic), stores it linked to the
 * alarm or the face event, serves it to the roles allowed to see it, and drops it after `retention.snapshots` days
 * (a restart with the hub clock moved on).
 */
describe('snapshots: on alarm linkage and face sightings, from the virtual ONVIF camera', () => {
  let sim: OnvifSimulator;
  let hub: Hub | undefined;
  let dataDir: string;
  let gateway: MqttClient | undefined;
  let seq = 0;
  let offset = 0;
  const clock = () => Date.now() + offset;

  const config = () =>
    parseHubConfig({
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir,
      admin: { password: ADMIN },
      dashboard: { dir: join(dataDir, 'no-dist') },
      gateways: [{ id: GW, password: GW_PASSWORD }],
      users: Object.entries(USERS).map(([username, u]) => ({ username, roles: [...u.roles], password: u.password })),
      devices: {
        registry: [
          { id: CAM, kind: 'camera', building: 'lab', zone: '1F' },
          { id: CAM_NO_ONVIF, kind: 'camera', building: 'lab', zone: '1F' },
          { id: DOOR, kind: 'door', building: 'lab', zone: '1F' },
          { id: FACE, kind: 'face_terminal', building: 'dorm-7', zone: '1F' },
          { id: FACE_CAM, kind: 'camera', building: 'dorm-7', zone: '1F' },
        ].map((d) => ({ gateway: GW, name: d.id, ...d })),
      },
      faces: { dormManagers: { warden7: ['dorm-7'], warden9: ['dorm-9'] } },
      video: {
        cameras: {
          [CAM]: { onvif: sim.deviceUrl(CAM), username: 'admin', password: 'cam-lab-secret' },
          [FACE_CAM]: { onvif: sim.deviceUrl(FACE_CAM), username: 'admin', password: 'cam-dorm-secret' },
        },
        snapshots: { faceCameras: { [FACE]: FACE_CAM } },
      },
    });

  async function start(): Promise<Hub> {
    const h = await startHub(config(), { logger: false, clock });
    gateway = await mqtt.connectAsync(h.mqttUrl, { clientId: `warden-edge-${GW}`, username: GW, password: GW_PASSWORD, reconnectPeriod: 0 });
    const now = clock();
    await gateway.publishAsync(gatewayTopic(GW, 'status'), JSON.stringify({ v: 1, gw: GW, state: 'online', ts: now, agentVersion: 'test', startedAt: now, backlog: 0 }), { qos: 1, retain: true });
    return h;
  }

  async function publishEvent(device: string, type: string, data: Record<string, unknown>): Promise<string> {
    const id = newId(clock());
    const record = { id, seq: ++seq, device, ts: clock(), kind: 'event', type, data };
    await gateway!.publishAsync(gatewayTopic(GW, 'up'), JSON.stringify({ v: 1, gw: GW, records: [record] }), { qos: 1 });
    return id;
  }

  async function login(username: string, password: string): Promise<string> {
    const r = await fetch(`${hub!.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    expect(r.status).toBe(200);
    return ((await r.json()) as { token: string }).token;
  }
  const get = (token: string, path: string) => fetch(`${hub!.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const list = async (token: string, query: string) => {
    const r = await get(token, `/api/snapshots?${query}`);
    expect(r.status).toBe(200);
    return ((await r.json()) as { snapshots: Snapshot[] }).snapshots;
  };
  async function metric(name: string, labels: string): Promise<number> {
    const text = await (await fetch(`${hub!.httpUrl}/api/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  beforeAll(async () => {
    sim = await startOnvifSimulator({
      cameras: [
        { id: CAM, name: 'Lab 1F', password: 'cam-lab-secret' },
        { id: FACE_CAM, name: 'Dorm 7 gate', password: 'cam-dorm-secret' },
      ],
      video: false,
    });
    dataDir = await mkdtemp(join(tmpdir(), 'warden-snapshots-'));
    hub = await start();
  }, 60_000);

  afterAll(async () => {
    await gateway?.endAsync(true);
    await hub?.stop();
    await sim?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('a forced door: its alarm’s linkage names the zone’s cameras, the one with an ONVIF service is snapshotted and served to security only', { timeout: 60_000 }, async () => {
    const guard = await login('guard', USERS.guard.password);
    await publishEvent(DOOR, 'door.forced', { door: 1 });
    const alarm = await eventually(async () => {
      const r = await get(guard, '/api/alarms?state=raised');
      const body = (await r.json()) as { alarms: Array<{ id: string; type: string }> };
      return body.alarms.find((a) => a.type === 'door.forced');
    }, 20_000, 'the door.forced alarm');
    const snaps = await eventually(async () => {
      const s = await list(guard, `alarm=${alarm.id}`);
      return s.length > 0 ? s : undefined;
    }, 20_000, 'a snapshot linked to the alarm');
    expect(snaps).toHaveLength(1);
    expect(snaps[0]).toMatchObject({ camera: CAM, cause: 'alarm', alarmId: alarm.id, eventId: null });
    // The other camera of the zone has no ONVIF service configured: counted, not silently skipped.
    await eventually(async () => (await metric('warden_hub_snapshots_total', 'cause="alarm",outcome="no_source"')) === 1, 30_000, 'no_source counted');
    expect(await metric('warden_hub_snapshots_total', 'cause="alarm",outcome="stored"')).toBe(1);

    const img = await get(guard, `/api/snapshots/${snaps[0]!.id}`);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await img.arrayBuffer());
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(jpeg.length).toBe(snaps[0]!.bytes);
    expect(sim.stats().snapshots).toBe(1);

    // Facilities staff: no snapshot routes. A dorm manager: no alarm snapshots.
    const meter = await login('meter', USERS.meter.password);
    expect((await get(meter, `/api/snapshots?alarm=${alarm.id}`)).status).toBe(403);
    expect((await get(meter, `/api/snapshots/${snaps[0]!.id}`)).status).toBe(403);
    const warden7 = await login('warden7', USERS.warden7.password);
    expect(await list(warden7, `alarm=${alarm.id}`)).toEqual([]);
    expect((await get(warden7, `/api/snapshots/${snaps[0]!.id}`)).status).toBe(403);
    expect((await get(guard, '/api/snapshots/no-such-snapshot')).status).toBe(404);
  });

  it('a face sighting at a terminal watched by a camera gets that camera’s snapshot, for security and the dorm’s manager only; retention drops it', { timeout: 90_000 }, async () => {
    const eventId = await publishEvent(FACE, 'face.sighting', { person: 'p-1', score: 0.9 });
    const guard = await login('guard', USERS.guard.password);
    const [snap] = await eventually(async () => {
      const s = await list(guard, `event=${eventId}`);
      return s.length > 0 ? s : undefined;
    }, 20_000, 'a snapshot linked to the sighting');
    expect(snap).toMatchObject({ camera: FACE_CAM, cause: 'face', eventId, alarmId: null });

    const warden7 = await login('warden7', USERS.warden7.password);
    expect((await list(warden7, `event=${eventId}`)).map((s) => s.id)).toEqual([snap!.id]);
    expect((await get(warden7, `/api/snapshots/${snap!.id}`)).status).toBe(200);
    // Another dorm's manager and facilities staff do not see it.
    const warden9 = await login('warden9', USERS.warden9.password);
    expect(await list(warden9, `event=${eventId}`)).toEqual([]);
    expect((await get(warden9, `/api/snapshots/${snap!.id}`)).status).toBe(403);
    const meter = await login('meter', USERS.meter.password);
    expect((await get(meter, `/api/snapshots/${snap!.id}`)).status).toBe(403);
    // Face data reads are audited.
    const admin = await login('admin', ADMIN);
    const audit = (await (await get(admin, '/api/audit?limit=200')).json()) as { entries: Array<{ actor: string; action: string }> };
    expect(audit.entries.some((e) => e.actor === 'warden7' && e.action.includes('read'))).toBe(true);

    // Retention (default 30 days): the hub restarted 31 days on; its lifecycle job removes the files, the index follows.
    expect((await readdir(join(dataDir, 'snapshots'))).length).toBe(2);
    await gateway?.endAsync(true);
    await hub!.stop();
    hub = undefined;
    offset = 31 * DAY;
    hub = await start();
    const guard2 = await login('guard', USERS.guard.password);
    await eventually(async () => (await readdir(join(dataDir, 'snapshots'))).length === 0, 20_000, 'snapshot files pruned');
    expect((await get(guard2, `/api/snapshots/${snap!.id}`)).status).toBe(404);
    expect(await list(guard2, `event=${eventId}`)).toEqual([]);
  });
});
