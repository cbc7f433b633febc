import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { campusPlan } from '@warden/simulators';
import { Supervisor, waitForHttp } from './supervisor.ts';
import { writeSystemLayout } from './layout.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${raw} is not a TCP port (1-65535)`);
  return n;
}

function ensureDashboardBuilt(): void {
  if (existsSync(resolve(ROOT, 'dashboard/dist/index.html'))) return;
  console.log('building the console (first start only)...');
  const r = spawnSync('npm', ['run', 'build', '-w', '@warden/dashboard'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('console build failed; see the output above');
}

/**
 * `npm start`: the whole system on one machine with embedded defaults — the hub, one edge agent per
 * simulated gateway, and the simulated campus devices, each as its own process as in a real site.
 */
export async function startAll(opts: { data: string }): Promise<void> {
  const dataDir = resolve(opts.data);
  const httpPort = envPort('WARDEN_HTTP_PORT', 8080);
  const mqttPort = envPort('WARDEN_MQTT_PORT', 1883);
  const fieldPortBase = envPort('WARDEN_FIELD_PORT_BASE', 1884);
  const scale = process.env.WARDEN_CAMPUS_SCALE === 'full' ? 'full' : 'demo';

  ensureDashboardBuilt();
  const plan = campusPlan({ scale });
  const layout = writeSystemLayout(plan, {
    dataDir,
    httpPort,
    mqttPort,
    fieldPortBase,
    adminPassword: process.env.WARDEN_ADMIN_PASSWORD || undefined,
  });

  const sup = new Supervisor();
  const shutdown = async (): Promise<void> => {
    console.log('stopping...');
    await sup.stopAll();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());

  sup.start({ name: 'hub', args: ['hub', '--config', layout.hubConfig] });
  const url = `http://127.0.0.1:${httpPort}`;
  await waitForHttp(`${url}/api/health`);
  // The simulated devices start once every gateway's field broker listens, as devices on site find their gateway up.
  await Promise.all([...layout.edgeConfigs].map(([id, file]) => sup.startAndWait({ name: id, args: ['edge', '--config', file] }, /field broker listening/)));
  await sup.startAndWait({ name: 'sim', args: ['sim', layout.scenario] }, /devices online|started/);

  const devices = plan.gateways.reduce((n, g) => n + g.devices.length, 0);
  console.log(
    [
      '',
      `Warden is running: ${plan.gateways.length} gateways, ${devices} simulated devices (${scale} campus).`,
      `  console   ${url}/`,
      `  login     admin / ${layout.adminPassword}   (WARDEN_ADMIN_PASSWORD sets it on a new data dir; otherwise generated once and kept in ${dataDir}/secrets.json)`,
      `  MQTT      mqtt://127.0.0.1:${mqttPort} (gateways only, per-gateway credentials in ${layout.hubConfig})`,
      `  data      ${dataDir}`,
      'Ctrl+C stops everything.',
      '',
    ].join('\n'),
  );
}
