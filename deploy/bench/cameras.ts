import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { request } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { CameraService } from '@warden/edge/camera/index.ts';
import { fmt, summarize } from './stats.ts';

/**
 * One camera health cycle over the campus's 1,311 cameras (virtual ONVIF cameras in a child process,
 * one HTTP server and one RTSP stream): the edge's CameraService probes each camera at its own offset
 * in a `cycleSeconds` cycle (ONVIF GetSystemDateAndTime + RTSP DESCRIBE), twice: "before" with the
 * `onvif` client's call and a new RTSP connection per probe (probeMode 'client', session 2's path),
 * "after" with the light probe (hand-written SOAP on a shared keep-alive agent, DESCRIBE on a kept RTSP
 * connection). Reported: the cycle's wall time, probe latency, and the edge process's CPU over the
 * cycle as a share of one core (target: under 10 s at under 10 %). Baseline in the same run: the same
 * two requests per camera sent bare (node http keep-alive + a raw TCP DESCRIBE on a new connection).
 */
export async function benchCameras(count = 1311, cycleSeconds = 9): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./cameras-sim.ts', import.meta.url)), String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      rl.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`camera simulator exited (${code})`)));
    });
    const { port, rtspPort, ids } = JSON.parse(first) as { port: number; rtspPort: number; ids: string[] };
    const logger = pino({ level: 'silent' });
    const configs = ids.map((id, i) => ({ id, xaddr: `http://127.0.0.1:${port}/onvif/${id}/device_service`, username: 'admin', password: `pw-${i + 1}`, events: false }));

    /** Connects every camera (not timed into the cycle), then runs one steady cycle spread over cycleSeconds. */
    const cycle = async (mode: 'client' | 'light') => {
      let probed = 0;
      let ok = 0;
      let onAll: (() => void) | null = null;
      let counting = false;
      const service = new CameraService({
        cameras: configs,
        cycleMs: cycleSeconds * 1000,
        probeTimeoutMs: 5000,
        probeMode: mode,
        onNotification: () => {},
        onAvailability: () => {},
        onProbe: (o) => {
          if (!counting) return;
          probed++;
          if (o.ok) ok++;
          if (probed === ids.length) onAll?.();
        },
        logger,
      });
      // Connect every camera once (GetSystemDateAndTime, GetServices → GetCapabilities, profiles, video sources,
      // device information, stream and snapshot URIs) and one warm-up probe: not part of the steady cycle.
      const t0 = performance.now();
      const connected = await runLimited(ids, 64, (id) => service.probe(id));
      const connectMs = performance.now() - t0;
      const okAtConnect = connected.filter((o) => o.ok).length;
      const load0 = loadavg()[0]!;
      const cpu0 = process.cpuUsage();
      const c0 = performance.now();
      counting = true;
      const all = new Promise<void>((resolve) => (onAll = resolve));
      service.start();
      await all;
      const cycleMs = performance.now() - c0;
      const cpu = process.cpuUsage(cpu0);
      const load1 = loadavg()[0]!;
      // Probe latency, one camera at a time on a sample of 200 (after the cycle, same connections).
      const probeMs: number[] = [];
      counting = false;
      await service.stop();
      const fresh = new CameraService({ cameras: configs.slice(0, 200), probeMode: mode, onNotification: () => {}, onAvailability: () => {}, logger });
      await runLimited(ids.slice(0, 200), 32, (id) => fresh.probe(id));
      for (const id of ids.slice(0, 200)) probeMs.push((await fresh.probe(id)).ms);
      await fresh.stop();
      const cpuMs = (cpu.user + cpu.system) / 1000;
      return { mode, ok, okAtConnect, connectMs, cycleMs, cpuMs, cpuShare: (cpuMs / cycleMs) * 100, perCamera: cpuMs / ids.length, lat: summarize(probeMs), load0, load1 };
    };

    const before = await cycle('client');
    const after = await cycle('light');

    // Baseline: the same two requests per camera, bare (keep-alive HTTP, a new TCP connection per DESCRIBE).
    const b0 = performance.now();
    const bcpu0 = process.cpuUsage();
    await runLimited(ids, 64, async (id) => {
      await bareSoap(port, `/onvif/${id}/device_service`);
      await bareDescribe(rtspPort, `rtsp://127.0.0.1:${rtspPort}/cameras/${id}`, `pw-${Number(id.slice(4))}`);
    });
    const bareMs = performance.now() - b0;
    const bcpu = process.cpuUsage(bcpu0);
    const bareCpuMsPerCamera = (bcpu.user + bcpu.system) / 1000 / ids.length;

    const row = (metric: string, f: (r: typeof before) => string, baseline = '') => ({ metric, before: f(before), after: f(after), baseline, ratio: '' });
    printCompare(`camera health: one cycle over ${ids.length} virtual ONVIF cameras (probes spread over ${cycleSeconds} s; ONVIF clock + RTSP DESCRIBE per camera)`, [
      row('cameras healthy in the cycle', (r) => `${r.ok}/${ids.length}`, ''),
      row('connect all (s), not in the cycle', (r) => `${r.okAtConnect}/${ids.length} in ${fmt(r.connectMs / 1000)}`),
      row('cycle wall time (s)', (r) => fmt(r.cycleMs / 1000), `bare, back to back: ${fmt(bareMs / 1000)}`),
      row('edge CPU over the cycle (% of one core)', (r) => fmt(r.cpuShare), 'target < 10'),
      { ...row('edge CPU per camera probe (ms)', (r) => fmt(r.perCamera, 2), fmt(bareCpuMsPerCamera, 2)), ratio: `after/bare ${fmt(after.perCamera / bareCpuMsPerCamera, 2)}x, before/after ${fmt(before.perCamera / after.perCamera, 1)}x` },
      row('one probe at a time (ms) p50 / p99', (r) => `${fmt(r.lat.p50)} / ${fmt(r.lat.p99)}`),
      row('machine load average (1 min) at cycle start / end', (r) => `${fmt(r.load0)} / ${fmt(r.load1)}`, '2 cores shared'),
    ]);
  } finally {
    child.stdin!.end();
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

async function runLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 64 });
function bareSoap(port: number, path: string): Promise<void> {
  const body = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>';
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/soap+xml', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });
}

function bareDescribe(port: number, uri: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () =>
      s.write(`DESCRIBE ${uri} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic ${Buffer.from(`admin:${password}`).toString('base64')}\r\n\r\n`),
    );
    s.once('data', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}

function printCompare(title: string, rows: Array<{ metric: string; before: string; after: string; baseline: string; ratio: string }>): void {
  const widths = [50, 22, 22, 30, 8];
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' ');
  console.log(`\n== ${title}`);
  console.log(line(['metric', 'before (client)', 'after (light)', 'baseline (bare requests)', 'ratio']));
  for (const r of rows) console.log(line([r.metric, r.before, r.after, r.baseline, r.ratio]));
}
