import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { videoPath } from '@warden/contract';
import { startOnvifSimulator } from '@warden/simulators/onvif/index.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { freePort, runWarden } from '../src/testing.ts';
import { fmt } from './stats.ts';

const TICKS = 100; // USER_HZ on Linux
const WIDTH = 640;
const HEIGHT = 360;
const FPS = 25;

/** CPU ticks (user + system) of one process, from /proc; 0 once it is gone. */
function ticks(pid: number): number {
  const r = spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' });
  if (r.status !== 0) return 0;
  const f = r.stdout.slice(r.stdout.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Every process below `root` (pid, command name). */
function descendants(root: number): Array<{ pid: number; comm: string }> {
  const rows = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 3)
    .map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm: comm! }));
  const out: Array<{ pid: number; comm: string }> = [];
  const walk = (p: number) => {
    for (const r of rows) if (r.ppid === p) (out.push({ pid: r.pid, comm: r.comm }), walk(r.pid));
  };
  walk(root);
  return out;
}

/** CPU of a set of processes over `ms`, as a share of one core (1 = one core busy). */
async function cpuOver(pids: () => number[], ms: number): Promise<number> {
  const start = new Map(pids().map((p) => [p, ticks(p)]));
  await new Promise((r) => setTimeout(r, ms));
  let used = 0;
  for (const [p, t0] of start) used += Math.max(0, ticks(p) - t0);
  return used / TICKS / (ms / 1000);
}

/**
 * Concurrent live streams through the hub's relay (`warden hub` as its own process, `video:` in hub.yaml): the
 * virtual ONVIF camera's RTSP test stream (640×360, 25 fps) pulled by N relay sources at once, one WebSocket viewer
 * each, N = 1, 2, 4, … until a step fails: a step is sustained when every viewer receives at least 80 % of the
 * bytes one stream alone delivers. Reported per step: the relay's CPU (hub process + its ffmpeg children) per
 * stream. Baseline in the same run: N plain `ffmpeg` processes doing the same pull and MPEG-1 transcode to
 * /dev/null (what the relay adds is the hub's fan-out to WebSockets). Then the same streams on a relay node (`warden
 * relay`, viewers admitted by the hub's tickets) at the largest step the hub sustained: node process + ffmpeg per stream.
 */
export async function benchVideoStreams(maxStreams = 32, seconds = 6): Promise<void> {
  const sim = await startOnvifSimulator({ cameras: [{ id: 'cam-bench', name: 'bench', password: 'bench-secret' }], video: { width: WIDTH, height: HEIGHT, fps: FPS } });
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-video-'));
  const procs: ChildProcess[] = [];
  let hub: ReturnType<typeof runWarden> | undefined;
  let relayNode: ReturnType<typeof runWarden> | undefined;
  try {
    await sim.videoReady(60_000);
    const rtsp = `rtsp://admin:bench-secret@127.0.0.1:${sim.rtspPort}/cameras/cam-bench`;
    const loadBefore = loadavg();
    console.log(`\n== live video streams through the relay (${cpus().length} cores, load ${loadBefore.map((l) => fmt(l, 2)).join(' ')} before)`);
    console.log(`source: virtual ONVIF camera, RTSP ${WIDTH}x${HEIGHT} @${FPS} fps (ffmpeg testsrc → rtsp-streaming-server); relay output MPEG-1 ${WIDTH}x${HEIGHT} 800k`);

    // Baseline: ffmpeg alone, the relay's pull + transcode, output to /dev/null.
    const baseline = new Map<number, number>();
    const steps: number[] = [];
    for (let n = 1; n <= maxStreams; n *= 2) steps.push(n);
    for (const n of steps) {
      const ffs = Array.from({ length: n }, () =>
        spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'udp', '-i', rtsp, '-an', '-f', 'mpegts', '-codec:v', 'mpeg1video', '-s', `${WIDTH}x${HEIGHT}`, '-r', String(FPS), '-b:v', '800k', '-bf', '0', '-y', '/dev/null'], { stdio: 'ignore' }),
      );
      procs.push(...ffs);
      await new Promise((r) => setTimeout(r, 2000));
      const cpu = await cpuOver(() => ffs.map((f) => f.pid!).filter(Boolean), seconds * 1000);
      baseline.set(n, cpu);
      for (const f of ffs) f.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      if (cpu / n > 0 && cpu > cpus().length * 0.95) break;
    }

    // The relay: `warden hub` with N camera ids on the same RTSP source.
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const cameras = Object.fromEntries(Array.from({ length: maxStreams }, (_, i) => [`cam-${i + 1}`, { url: `rtsp://127.0.0.1:${sim.rtspPort}/cameras/cam-bench`, username: 'admin', password: 'bench-secret', transport: 'udp' }]));
    // The same cameras again under other ids, assigned to a relay node (`warden relay`, its own process).
    const nodePort = await freePort();
    const nodeCameras = Object.fromEntries(Object.entries(cameras).map(([id, src]) => [`node-${id}`, src]));
    const cfg = join(dir, 'hub.yaml');
    writeFileSync(
      cfg,
      stringify({
        http: { port: httpPort },
        mqtt: { port: mqttPort },
        dataDir: join(dir, 'hub'),
        admin: { password: 'bench-admin-password' },
        video: { maxStreams, width: WIDTH, height: HEIGHT, fps: FPS, cameras, nodes: { 'bench-node': { url: `ws://127.0.0.1:${nodePort}`, cameras: Object.keys(nodeCameras) } } },
        devices: { registry: [...Object.keys(cameras), ...Object.keys(nodeCameras)].map((id) => ({ id, gateway: 'gw-bench', kind: 'camera' })) },
        gateways: [{ id: 'gw-bench', password: 'gw-bench-password' }],
      }),
      { mode: 0o600 },
    );
    hub = runWarden(['hub', '--config', cfg]);
    const base = `http://127.0.0.1:${httpPort}`;
    await waitForHttp(`${base}/api/health`);
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }) });
    const { token } = (await login.json()) as { token: string };
    const hubPid = hub.child.pid!;

    let single = 0;
    console.log(['streams', 'relay CPU/stream', 'ffmpeg alone/stream', 'hub node share', 'min viewer kbit/s', 'sustained'].map((c) => c.padEnd(20)).join(''));
    let sustainedMax = 0;
    for (const n of steps) {
      const viewers = Array.from({ length: n }, (_, i) => {
        const ws = new WebSocket(`ws://127.0.0.1:${httpPort}${videoPath(`cam-${i + 1}`)}?token=${encodeURIComponent(token)}`);
        const v = { ws, bytes: 0 };
        ws.on('message', (d: Buffer) => (v.bytes += d.length));
        ws.on('error', () => undefined);
        return v;
      });
      await new Promise((r) => setTimeout(r, 3000));
      const before = viewers.map((v) => v.bytes);
      const tree = () => [hubPid, ...descendants(hubPid).map((d) => d.pid)];
      const nodeOnly = () => [hubPid, ...descendants(hubPid).filter((d) => d.comm !== 'ffmpeg').map((d) => d.pid)];
      const startNode = new Map(nodeOnly().map((p) => [p, ticks(p)]));
      const cpu = await cpuOver(tree, seconds * 1000);
      let nodeTicks = 0;
      for (const [p, t0] of startNode) nodeTicks += Math.max(0, ticks(p) - t0);
      const rates = viewers.map((v, i) => ((v.bytes - before[i]!) * 8) / 1000 / seconds);
      const minRate = Math.min(...rates);
      if (n === 1) single = minRate;
      const ok = single > 0 && minRate >= single * 0.8;
      if (ok) sustainedMax = n;
      const b = baseline.get(n);
      console.log(
        [String(n), `${fmt((cpu / n) * 100)} % core`, b === undefined ? 'n/a' : `${fmt((b / n) * 100)} % core`, `${fmt((nodeTicks / TICKS / seconds) * 100)} % core`, fmt(minRate, 0), ok ? 'yes' : 'no'].map((c) => c.padEnd(20)).join(''),
      );
      for (const v of viewers) v.ws.close();
      await new Promise((r) => setTimeout(r, 3000));
      if (!ok || cpu > cpus().length * 0.95) break;
    }
    console.log(`sustained: ${sustainedMax} concurrent live streams (every viewer ≥ 80 % of one stream's rate); load after ${loadavg().map((l) => fmt(l, 2)).join(' ')}`);

    // The same streams on a relay node: `warden relay` (its process + ffmpeg children), viewers admitted by the hub's
    // tickets (POST /api/cameras/:id/live), at the largest step the hub sustained (at least 1).
    const relayCfg = join(dir, 'relay.yaml');
    writeFileSync(
      relayCfg,
      stringify({ id: 'bench-node', listen: { port: nodePort }, hubPublicKey: join(dir, 'hub', 'video-ticket.pub'), maxStreams, width: WIDTH, height: HEIGHT, fps: FPS, cameras: nodeCameras }),
      { mode: 0o600 },
    );
    relayNode = runWarden(['relay', '--config', relayCfg], { LOG_LEVEL: 'warn' });
    await waitForHttp(`http://127.0.0.1:${nodePort}/metrics`);
    const n = Math.max(1, sustainedMax);
    const nodeViewers = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await fetch(`${base}/api/cameras/node-cam-${i + 1}/live`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        const lv = (await res.json()) as { url: string; ticket: string };
        const ws = new WebSocket(`${lv.url}?ticket=${encodeURIComponent(lv.ticket)}`);
        const v = { ws, bytes: 0 };
        ws.on('message', (d: Buffer) => (v.bytes += d.length));
        ws.on('error', () => undefined);
        return v;
      }),
    );
    await new Promise((r) => setTimeout(r, 3000));
    const nodeBefore = nodeViewers.map((v) => v.bytes);
    const nodePid = relayNode.child.pid!;
    const nodeCpu = await cpuOver(() => [nodePid, ...descendants(nodePid).map((d) => d.pid)], seconds * 1000);
    const nodeMin = Math.min(...nodeViewers.map((v, i) => ((v.bytes - nodeBefore[i]!) * 8) / 1000 / seconds));
    for (const v of nodeViewers) v.ws.close();
    console.log(
      `relay node (warden relay, ${n} stream${n > 1 ? 's' : ''}): ${fmt((nodeCpu / n) * 100)} % core per stream (node process + ffmpeg), min viewer ${fmt(nodeMin, 0)} kbit/s; ` +
        `in-hub relay at the same step above; load after ${loadavg().map((l) => fmt(l, 2)).join(' ')}`,
    );
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await relayNode?.stop();
    await hub?.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
