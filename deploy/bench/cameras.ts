import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { request } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { CameraService } from '@warden/edge/camera/index.ts';
import { fmt, printTable, summarize } from './stats.ts';

/**
 * One camera health cycle over the campus's 1,311 cameras (virtual ONVIF cameras in a child process,
 * one HTTP server and one RTSP stream): the edge's CameraService probes each camera at its own offset
 * in a `cycleSeconds` cycle (ONVIF GetSystemDateAndTime through the `onvif` client + RTSP DESCRIBE).
 * Reported: the cycle's wall time, probe latency, and the edge process's CPU over the cycle as a
 * share of one core (target: under 10 s at under 10 %). Baseline in the same run: the same two
 * requests per camera sent bare (node http + a raw TCP DESCRIBE, no SOAP parsing, no client).
 */
export async function benchCameras(count = 1311, cycleSeconds = 10): Promise<void> {
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
    const service = new CameraService({
      cameras: ids.map((id, i) => ({ id, xaddr: `http://127.0.0.1:${port}/onvif/${id}/device_service`, username: 'admin', password: `pw-${i + 1}`, events: false })),
      cycleMs: cycleSeconds * 1000,
      probeTimeoutMs: 5000,
      onNotification: () => {},
      onAvailability: () => {},
      logger,
    });
    // Connect every camera once (GetSystemDateAndTime, GetServices → GetCapabilities, profiles,
    // video sources, device information, stream and snapshot URIs): not part of the steady cycle.
    const t0 = performance.now();
    const connected = await runLimited(ids, 64, (id) => service.probe(id));
    const connectMs = performance.now() - t0;
    const okAtConnect = connected.filter((o) => o.ok).length;

    // The steady cycle, spread over cycleSeconds.
    const load0 = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const c0 = performance.now();
    service.start();
    const probeMs: number[] = [];
    let ok = 0;
    await new Promise<void>((resolve) => {
      const seen = new Set<string>();
      const poll = setInterval(() => {
        for (const s of service.status()) {
          if (!seen.has(s.id) && s.lastProbe !== null && s.lastProbe >= Date.now() - (performance.now() - c0)) {
            seen.add(s.id);
            if (s.failures === 0) ok++;
          }
        }
        if (seen.size === ids.length) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    const cycleMs = performance.now() - c0;
    const cpu = process.cpuUsage(cpu0);
    await service.stop();
    const cpuShare = ((cpu.user + cpu.system) / 1000 / cycleMs) * 100;

    // Probe latency of the steady state, measured one camera at a time on a sample.
    const fresh = new CameraService({ cameras: ids.slice(0, 200).map((id, i) => ({ id, xaddr: `http://127.0.0.1:${port}/onvif/${id}/device_service`, username: 'admin', password: `pw-${i + 1}`, events: false })), onNotification: () => {}, onAvailability: () => {}, logger });
    await runLimited(ids.slice(0, 200), 32, (id) => fresh.probe(id));
    for (const id of ids.slice(0, 200)) probeMs.push((await fresh.probe(id)).ms);
    await fresh.stop();

    // Baseline: the same two requests per camera, bare.
    const b0 = performance.now();
    const bcpu0 = process.cpuUsage();
    await runLimited(ids, 64, async (id) => {
      await bareSoap(port, `/onvif/${id}/device_service`);
      await bareDescribe(rtspPort, `rtsp://127.0.0.1:${rtspPort}/cameras/${id}`, `pw-${Number(id.slice(4))}`);
    });
    const bareMs = performance.now() - b0;
    const bcpu = process.cpuUsage(bcpu0);
    const bareCpuMsPerCamera = (bcpu.user + bcpu.system) / 1000 / ids.length;
    const wardenCpuMsPerCamera = (cpu.user + cpu.system) / 1000 / ids.length;
    const s = summarize(probeMs);

    printTable(`camera health: one cycle over ${ids.length} virtual ONVIF cameras (cycle ${cycleSeconds} s, ONVIF + RTSP per camera)`, [
      { metric: 'cameras healthy after the cycle', warden: `${ok}/${ids.length}`, baseline: `connect: ${okAtConnect}/${ids.length} in ${fmt(connectMs / 1000)} s`, ratio: '' },
      { metric: 'cycle wall time (s)', warden: fmt(cycleMs / 1000), baseline: `bare, back to back: ${fmt(bareMs / 1000)}`, ratio: '' },
      { metric: 'edge CPU over the cycle (% of one core)', warden: fmt(cpuShare), baseline: 'target < 10', ratio: '' },
      { metric: 'edge CPU per camera probe (ms)', warden: fmt(wardenCpuMsPerCamera, 2), baseline: fmt(bareCpuMsPerCamera, 2), ratio: fmt(wardenCpuMsPerCamera / bareCpuMsPerCamera, 1) + 'x' },
      { metric: 'one probe at a time (ms) p50 / p99', warden: `${fmt(s.p50)} / ${fmt(s.p99)}`, baseline: '', ratio: '' },
      { metric: 'machine load average (1 min) before / after', warden: `${fmt(load0)} / ${fmt(loadavg()[0]!)}`, baseline: '2 cores shared', ratio: '' },
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
