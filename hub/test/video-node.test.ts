import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIDEO_CLOSE, type LiveView } from '@warden/contract';
import { parseRelayConfig, startRelayNode, type RelayNode } from '../src/video/node.ts';
import { TICKET_PUBLIC_KEY_FILE, loadOrCreateTicketKeys, signTicket } from '../src/video/tickets.ts';
import { parseHubConfig } from '../src/config.ts';
import { api, eventually, login, testHub, type TestHub } from './helpers.ts';
import { cameraServer, hasFfmpeg, relayFfmpegs, view } from './video-helpers.ts';

if (!hasFfmpeg) console.warn('skipping the relay node test: ffmpeg is not installed (apt-get install ffmpeg)');

async function nodeMetric(node: RelayNode, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${node.url.replace('ws:', 'http:')}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith(want ? `${name}{${want}}` : `${name} `)) return Number(line.split(' ').pop());
  }
  return Number.NaN;
}

const NODE_CAMS = ['cam-n1', 'cam-n2', 'cam-n3'];
const BUILDING_OF: Record<string, string> = { 'cam-n1': 'lib', 'cam-n2': 'lib', 'cam-n3': 'lib', 'cam-h1': 'lib', 'cam-far': 'lab' };

/**
 * Scale-out of live video: a relay node (in this process, its own listener on 127.0.0.1) transcodes cameras the hub
 * assigns to it; the hub issues signed tickets (POST /api/cameras/:id/live) and keeps the authority on users.
 */
describe.skipIf(!hasFfmpeg)('live video relay node: hub-signed tickets, refusals counted, cap, no ffmpeg left', () => {
  let cam: Awaited<ReturnType<typeof cameraServer>>;
  let dir: string;
  let t: TestHub;
  let node: RelayNode;
  let guard: string;

  beforeAll(async () => {
    cam = await cameraServer();
    dir = await mkdtemp(join(tmpdir(), 'warden-video-node-'));
    const hubDir = join(dir, 'hub');
    // The hub makes its key pair on first start; made here first so the node (started before the hub, for its port) has the public key.
    mkdirSync(hubDir, { recursive: true });
    loadOrCreateTicketKeys(hubDir);
    const src = (name: string) => ({ url: `http://127.0.0.1:${cam.port}/${name}` });
    node = await startRelayNode(
      parseRelayConfig({
        id: 'node-a',
        listen: { port: 0 },
        hubPublicKey: join(hubDir, TICKET_PUBLIC_KEY_FILE),
        maxStreams: 2,
        width: 160,
        height: 120,
        cameras: Object.fromEntries(NODE_CAMS.map((c) => [c, src(c)])),
      }),
      { log: pino({ enabled: false }) },
    );
    t = await testHub(
      {
        gateways: [{ id: 'gw-v', password: 'gw-v-password' }],
        devices: { registry: Object.entries(BUILDING_OF).map(([id, building]) => ({ id, gateway: 'gw-v', kind: 'camera', building })) },
        video: {
          width: 160,
          height: 120,
          cameras: { 'cam-h1': src('cam-h1') },
          nodes: { 'node-a': { url: node.url, cameras: NODE_CAMS }, 'node-b': { url: 'ws://127.0.0.1:1', cameras: ['cam-far'] } },
        },
        users: [
          { username: 'guard', roles: ['security'], password: 'guard-password-1' },
          { username: 'meter', roles: ['facilities'], password: 'meter-password-1' },
          { username: 'labguard', roles: ['security'], password: 'labguard-password-1', scope: { buildings: ['lab'] } },
        ],
      },
      hubDir,
    );
    guard = await login(t.hub, 'guard', 'guard-password-1');
  }, 60_000);

  afterAll(async () => {
    await node?.close();
    await t?.close();
    if (cam) {
      expect(relayFfmpegs(cam.port)).toEqual([]);
      for (const s of cam.sources) s.kill('SIGKILL');
      await new Promise((r) => cam.server.close(r));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const live = async (camera: string, token = guard) => api<LiveView>(t.hub, token, `/api/cameras/${camera}/live`, { method: 'POST' });
  const open = (lv: LiveView, ticket = lv.ticket) => view(`${lv.url}?ticket=${encodeURIComponent(ticket)}`);

  it('the hub hands out a ticket for the node serving the camera; a viewer gets MPEG-TS from the node; one ffmpeg, gone after', { timeout: 60_000 }, async () => {
    const r = await live('cam-n1');
    expect(r.status).toBe(200);
    expect(r.body.url).toBe(`${node.url}/video/cam-n1`);
    expect(r.body.relay).toBe('node-a');
    expect(r.body.expiresAt - Date.now()).toBeGreaterThan(50_000);
    expect(r.body.expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
    const v = open(r.body);
    await eventually(() => v.bytes > 4_000, 'video bytes from the node', 30_000);
    expect(v.badFrames).toBe(0);
    expect(relayFfmpegs(cam.port, 'cam-n1')).toHaveLength(1);
    expect(await nodeMetric(node, 'warden_relay_video_viewers')).toBe(1);
    // The hub's own relay runs nothing for it.
    v.ws.close();
    await v.closed;
    await eventually(() => relayFfmpegs(cam.port).length === 0, 'the node ffmpeg gone', 10_000);

    // Issuing is audited (who asked to watch which camera, through which relay).
    const admin = await login(t.hub);
    const audit = await api<{ entries: Array<{ actor: string; action: string; target: string | null }> }>(t.hub, admin, '/api/audit?action=video.');
    expect(audit.body.entries.some((e) => e.actor === 'guard' && e.action === 'video.view' && e.target === 'cam-n1')).toBe(true);
  });

  it('a camera on no node plays from the hub’s own relay with a ticket (same-origin path)', { timeout: 60_000 }, async () => {
    const r = await live('cam-h1');
    expect(r.body).toMatchObject({ url: '/video/cam-h1', relay: 'hub' });
    const v = view(`${t.hub.httpUrl.replace('http:', 'ws:')}${r.body.url}?ticket=${encodeURIComponent(r.body.ticket)}`);
    await eventually(() => v.bytes > 4_000, 'video bytes from the hub relay', 30_000);
    v.ws.close();
    await v.closed;
    // A hub ticket does not open a node's stream (audience), nor does a node's ticket the hub's.
    const onNode = await open({ ...r.body, url: `${node.url}/video/cam-h1` }).closed;
    expect(onNode.code).toBe(VIDEO_CLOSE.unauthorized);
    const n = await live('cam-n2');
    const onHub = await view(`${t.hub.httpUrl.replace('http:', 'ws:')}/video/cam-n2?ticket=${encodeURIComponent(n.body.ticket)}`).closed;
    expect(onHub.code).toBe(VIDEO_CLOSE.unauthorized);
    await eventually(() => relayFfmpegs(cam.port).length === 0, 'no ffmpeg left', 10_000);
  });

  it('the route applies the hub’s checks: role, scope, unknown camera', async () => {
    expect((await live('cam-n1', await login(t.hub, 'meter', 'meter-password-1'))).status).toBe(403);
    const lab = await login(t.hub, 'labguard', 'labguard-password-1');
    expect((await live('cam-n1', lab)).status).toBe(403);
    expect((await live('cam-far', lab)).body).toMatchObject({ url: 'ws://127.0.0.1:1/video/cam-far', relay: 'node-b' });
    expect((await live('cam-nowhere')).status).toBe(404);
    expect((await api(t.hub, null, '/api/cameras/cam-n1/live', { method: 'POST' })).status).toBe(401);
  });

  it('the node refuses a missing, forged, expired, wrong-audience, wrong-camera or reused ticket: close code and counter, no ffmpeg', { timeout: 60_000 }, async () => {
    const base = `${node.url}/video/cam-n1`;
    expect((await view(base).closed).code).toBe(VIDEO_CLOSE.unauthorized);

    const good = (await live('cam-n1')).body;
    // Forged: the payload changed (another camera) under the hub's signature; and a ticket signed by another key.
    const [body, sig] = good.ticket.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${Buffer.from(JSON.stringify({ ...claims, cam: 'cam-n2' })).toString('base64url')}.${sig}`;
    expect((await open({ ...good, url: `${node.url}/video/cam-n2` }, tampered).closed).code).toBe(VIDEO_CLOSE.unauthorized);
    const otherDir = await mkdtemp(join(tmpdir(), 'warden-video-node-other-'));
    const other = signTicket(loadOrCreateTicketKeys(otherDir).privateKey, { sub: 'guard', cam: 'cam-n1', aud: 'node-a', now: Date.now(), ttlMs: 60_000 });
    await rm(otherDir, { recursive: true, force: true });
    expect((await open(good, other.ticket).closed).code).toBe(VIDEO_CLOSE.unauthorized);
    expect((await open(good, 'garbage.ticket').closed).code).toBe(VIDEO_CLOSE.unauthorized);

    // Signed with the hub's own key (read from its data dir, as only the hub can), but expired (beyond the 10 s leeway).
    const hubKey = loadOrCreateTicketKeys(t.dataDir).privateKey;
    const expired = signTicket(hubKey, { sub: 'guard', cam: 'cam-n1', aud: 'node-a', now: Date.now() - 120_000, ttlMs: 60_000 });
    const e = await open(good, expired.ticket).closed;
    expect(e.code).toBe(VIDEO_CLOSE.unauthorized);
    expect(e.reason).toMatch(/expired/);

    // For node-b, or for cam-n2, presented here for cam-n1.
    const far = (await live('cam-far')).body;
    expect((await open(good, far.ticket).closed).code).toBe(VIDEO_CLOSE.unauthorized);
    const n2 = (await live('cam-n2')).body;
    expect((await open(good, n2.ticket).closed).code).toBe(VIDEO_CLOSE.forbidden);

    // The good ticket once; not twice.
    const v = open(good);
    await eventually(() => v.bytes > 0, 'video with the good ticket', 30_000);
    const again = await open(good).closed;
    expect(again.code).toBe(VIDEO_CLOSE.unauthorized);
    expect(again.reason).toMatch(/used already/);
    v.ws.close();
    await v.closed;
    await eventually(() => relayFfmpegs(cam.port).length === 0, 'no ffmpeg left', 10_000);

    expect(await nodeMetric(node, 'warden_relay_video_refused_total', { reason: 'missing_ticket' })).toBe(1);
    expect(await nodeMetric(node, 'warden_relay_video_refused_total', { reason: 'bad_ticket' })).toBe(3);
    expect(await nodeMetric(node, 'warden_relay_video_refused_total', { reason: 'expired' })).toBe(1);
    expect(await nodeMetric(node, 'warden_relay_video_refused_total', { reason: 'wrong_audience' })).toBeGreaterThanOrEqual(2);
    expect(await nodeMetric(node, 'warden_relay_video_refused_total', { reason: 'wrong_camera' })).toBe(1);
    expect(await nodeMetric(node, 'warden_relay_video_refused_total', { reason: 'replayed' })).toBe(1);
  });

  it('the node’s cap: a third camera is refused with 4429 while two stream', { timeout: 60_000 }, async () => {
    const a = open((await live('cam-n1')).body);
    const b = open((await live('cam-n2')).body);
    await eventually(() => a.bytes > 0 && b.bytes > 0, 'two streams on the node', 30_000);
    const third = await open((await live('cam-n3')).body).closed;
    expect(third.code).toBe(VIDEO_CLOSE.streamLimit);
    expect(third.reason).toMatch(/limit reached: 2/);
    expect(relayFfmpegs(cam.port)).toHaveLength(2);
    a.ws.close();
    b.ws.close();
    await eventually(() => relayFfmpegs(cam.port).length === 0, 'both node ffmpegs gone', 10_000);
    expect(await nodeMetric(node, 'warden_relay_video_refused_total', { reason: 'stream_limit' })).toBe(1);
  });

  it('/metrics off loopback needs the node’s token; a config with errors says where', async () => {
    const tokenFile = join(dir, 'metrics.token');
    await writeFile(tokenFile, 'a-metrics-token-of-32-characters\n', { mode: 0o600 });
    // A second node on this machine's LAN address (plain, so allowInsecure), reached from that address: not loopback.
    const lan = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (lan) {
      const n = await startRelayNode(
        parseRelayConfig({ id: 'node-lan', listen: { host: lan, port: 0, allowInsecure: true }, hubPublicKey: join(t.dataDir, TICKET_PUBLIC_KEY_FILE), metrics: { tokenFile }, cameras: { c1: { url: 'rtsp://127.0.0.1:1/1' } } }),
        { log: pino({ enabled: false }) },
      );
      try {
        const m = `${n.url.replace('ws:', 'http:')}/metrics`;
        expect((await fetch(m)).status).toBe(401);
        expect((await fetch(m, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong-tok' } })).status).toBe(401);
        const ok = await fetch(m, { headers: { authorization: 'Bearer a-metrics-token-of-32-characters' } });
        expect(ok.status).toBe(200);
        expect(await ok.text()).toMatch(/warden_relay_metrics_refused_total 2/);
        expect((await fetch(`${n.url.replace('ws:', 'http:')}/anything`)).status).toBe(404);
      } finally {
        await n.close();
      }
    } else console.warn('no non-loopback IPv4 address: the /metrics token check off loopback is not exercised');
    expect(() => parseRelayConfig({ id: 'n', listen: { host: '0.0.0.0' }, hubPublicKey: 'x.pub', cameras: { c1: { onvif: 'http://x/onvif' } } })).toThrow(
      /\/listen: plain ws:\/\/ on 0\.0\.0\.0[\s\S]*\/cameras\/c1: give `url`/,
    );
    expect(() => parseRelayConfig({ id: 'Bad Id', hubPublicKey: 'x.pub', cameras: {} })).toThrow(/\/id/);
    expect(() => parseRelayConfig({ id: 'n', hubPublicKey: join(dir, 'none.pub'), cameras: { c1: { url: 'rtsp://x/1' } }, metrics: { tokenFile } })).not.toThrow();
    await expect(startRelayNode(parseRelayConfig({ id: 'n', listen: { port: 0 }, hubPublicKey: join(dir, 'none.pub'), cameras: { c1: { url: 'rtsp://x/1' } } }), { log: pino({ enabled: false }) })).rejects.toThrow(
      /cannot read the hub's ticket public key/,
    );
  });
});

describe('video.nodes in hub.yaml', () => {
  it('refuses a camera on two nodes, a node named hub and a URL that is not ws(s)://host:port, each by its path', () => {
    const parse = (nodes: unknown) => () => parseHubConfig({ dataDir: tmpdir(), video: { nodes } });
    expect(parse({ a: { url: 'ws://10.0.0.1:8090', cameras: ['cam-1'] }, b: { url: 'wss://relay-b:8090/', cameras: ['cam-1'] } })).toThrow(/\/video\/nodes\/b\/cameras: camera cam-1 is listed on node a too/);
    expect(parse({ hub: { url: 'ws://10.0.0.1:8090' } })).toThrow(/\/video\/nodes\/hub: `hub` is the hub's own relay/);
    expect(parse({ a: { url: 'http://10.0.0.1:8090' } })).toThrow(/\/video\/nodes\/a\/url/);
    expect(parse({ a: { url: 'ws://10.0.0.1:8090/video' } })).toThrow(/\/video\/nodes\/a\/url/);
    const ok = parseHubConfig({ dataDir: tmpdir(), video: { nodes: { a: { url: 'wss://relay-a:8090' } } } });
    expect(ok.video.nodes.a).toEqual({ url: 'wss://relay-a:8090' });
    expect(ok.video.ticketSeconds).toBe(60);
  });
});

describe('warden relay (the CLI)', () => {
  it('a relay.yaml with errors: exit code 2 and every error with its path, nothing started', { timeout: 30_000 }, async () => {
    const d = await mkdtemp(join(tmpdir(), 'warden-relay-cli-'));
    const file = join(d, 'relay.yaml');
    await writeFile(file, 'id: relay-a\nlisten: { host: 0.0.0.0 }\nmaxStreams: 0\ncameras: {}\n');
    const warden = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));
    const r = spawnSync(process.execPath, [warden, 'relay', '--config', file], { encoding: 'utf8', timeout: 25_000 });
    await rm(d, { recursive: true, force: true });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid relay config/);
    expect(r.stderr).toMatch(/\/maxStreams/);
    expect(r.stderr).toMatch(/hubPublicKey/);
  });
});
