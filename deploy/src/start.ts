import { existsSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { campusPlan } from '@warden/simulators';
import { Supervisor, waitForHttp } from './supervisor.ts';
import { writeSystemLayout } from './layout.ts';
import { cameraPorts } from './camera-layout.ts';
import { DEMO_PERSONS, enrolDemoFaces, faceGateways, prepareDemoFaces, type DemoFaceFiles } from './demo-faces.ts';
import { DEMO_NIGHT, addDemoNight, demoCurfew, retimeDemoNight, setDemoCurfew, setUpDemoNight } from './demo-night.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${raw} is not a TCP port (1-65535)`);
  return n;
}

/** Newest modification time under a file or folder (0 when missing). */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, f) => Math.max(m, newest(join(path, f))), st.mtimeMs);
}

/** Builds the console when it has never been built or its sources changed since (a pull, an edit). */
function envDays(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 62) throw new Error(`${name}=${raw} is not a number of days (0-62)`);
  return n;
}

function ensureDashboardBuilt(): void {
  const built = newest(resolve(ROOT, 'dashboard/dist/index.html'));
  const sources = Math.max(...['src', 'public', 'index.html', 'vite.config.ts'].map((p) => newest(resolve(ROOT, 'dashboard', p))));
  if (built > 0 && built >= sources) return;
  console.log(built ? 'console sources changed; building the console...' : 'building the console (first start only)...');
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
  const backfillDays = envDays('WARDEN_BACKFILL_DAYS', 30);
  // Meter history is played once, into a new data dir (or one whose first start did not get that far): a
  // restart must not send a second, different past.
  const pending = join(dataDir, 'meter-history.pending');
  const fresh = !existsSync(join(dataDir, 'hub')) || existsSync(pending);

  ensureDashboardBuilt();
  const plan = campusPlan({ scale });
  // A compressed dorm night around a curfew a few minutes after the simulators start (deploy/src/demo-night.ts), on every start.
  let curfew = demoCurfew();
  const night = scale === 'demo' && addDemoNight(plan, curfew.iso);
  let faces: DemoFaceFiles | undefined;
  if (faceGateways(plan).length > 0) {
    try {
      faces = await prepareDemoFaces(dataDir);
    } catch (err) {
      console.warn(`demo faces unavailable (${(err as Error).message}); face terminals present cards only`);
    }
  }
  const layoutOptions = {
    dataDir,
    httpPort,
    mqttPort,
    fieldPortBase,
    adminPassword: process.env.WARDEN_ADMIN_PASSWORD || undefined,
    ...(faces ? { faceImages: faces.terminal } : {}),
    faceCards: DEMO_PERSONS.map((p) => p.credential),
    cameras: await cameraPorts(),
  };
  const backfill = fresh ? backfillDays : 0;
  const layout = writeSystemLayout(plan, { ...layoutOptions, backfillDays: backfill });
  if (backfill) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(pending, `${backfill} days of meter history to publish\n`);
  }

  const sup = new Supervisor();
  const shutdown = async (): Promise<void> => {
    console.log('stopping...');
    await sup.stopAll();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());

  const url = `http://127.0.0.1:${httpPort}`;
  const startParts = async (): Promise<void> => {
    sup.start({ name: 'hub', args: ['hub', '--config', layout.hubConfig] });
    await waitForHttp(`${url}/api/health`);
    // Persons are enrolled through the hub's own API before the gateways connect, so their galleries arrive with them.
    if (faces) {
      await enrolDemoFaces({ url, adminPassword: layout.adminPassword, plan, files: faces, log: (l) => console.log(l) }).catch((err: Error) =>
        console.warn(`demo faces not enrolled: ${err.message}`),
      );
    }
    if (night) {
      await setUpDemoNight({ url, adminPassword: layout.adminPassword, log: (l) => console.log(l) }).catch((err: Error) =>
        console.warn(`demo night not set up: ${err.message}`),
      );
    }
    // The cameras are on the network before their gateways first probe them (one process serving them all).
    if (layout.cameraScenario) await sup.startAndWait({ name: 'cameras', args: ['sim', layout.cameraScenario] }, /cameras serving/, 240_000);
    // The simulated devices start once every gateway's field broker listens, as devices on site find their gateway up.
    // Generous: on a busy machine several agents loading TypeScript (and one the face models) take a while.
    await Promise.all(
      [...layout.edgeConfigs].map(([id, file]) => sup.startAndWait({ name: id, args: ['edge', '--config', file] }, /field broker listening/, 240_000)),
    );
    if (backfill) console.log(`simulated meters first publish ${backfill} days of history through their gateways (new data dir)`);
    if (night) {
      // The curfew is set now, when the night's simulators start (edge agents may take minutes on a busy machine).
      curfew = demoCurfew();
      retimeDemoNight(plan, curfew.iso);
      writeSystemLayout(plan, { ...layoutOptions, backfillDays: backfill });
      await setDemoCurfew({ url, adminPassword: layout.adminPassword, clock: curfew.clock }).catch((err: Error) => console.warn(`demo night curfew not set: ${err.message}`));
    }
    await sup.startAndWait({ name: 'sim', args: ['sim', layout.scenario] }, /devices online|started/, 240_000);
    // The history is out; a simulator restarted by the supervisor goes live only.
    if (backfill) {
      writeSystemLayout(plan, { ...layoutOptions, backfillDays: 0 });
      rmSync(pending, { force: true });
    }
  };
  try {
    await startParts();
  } catch (err) {
    // Nothing is left running behind a start that failed half way.
    await sup.stopAll();
    throw err;
  }

  const devices = plan.gateways.reduce((n, g) => n + g.devices.length, 0);
  console.log(
    [
      '',
      `Warden is running: ${plan.gateways.length} gateways, ${devices} simulated devices (${scale} campus).`,
      ...(backfill ? [`  history   ${backfill} days of meter readings on their way in (energy pages fill within a minute)`] : []),
      ...(faces ? [`  faces     ${DEMO_PERSONS.length} persons enrolled (1 on the watch-list); face terminal ${plan.gateways.flatMap((g) => g.devices).filter((d) => d.driver === 'face-terminal' && d.edge?.mode !== 'dorm').map((d) => d.id).join(', ')}`] : []),
      ...(layout.cameras.length
        ? [`  cameras   ${layout.cameras.length} virtual ONVIF cameras in one simulator (ONVIF http://127.0.0.1:${layoutOptions.cameras.port}, RTSP rtsp://127.0.0.1:${layoutOptions.cameras.rtspPort}/cameras/{id}): ${url}/#cameras, ${url}/#cameraStatus`]
        : []),
      ...(night
        ? [`  night     ${DEMO_NIGHT.residents} residents of ${DEMO_NIGHT.building} come home by card; curfew ${curfew.clock} (${DEMO_NIGHT.timeZone}, in ${Math.round((curfew.at - Date.now()) / 60_000)} min), late/absent list at +${DEMO_NIGHT.reportDelayMinutes} min: ${url}/#attendance`]
        : []),
      `  console   ${url}/`,
      `  login     admin / ${layout.adminPassword}   (WARDEN_ADMIN_PASSWORD sets it on a new data dir; otherwise generated once and kept in ${dataDir}/secrets.json)`,
      `  MQTT      mqtt://127.0.0.1:${mqttPort} (gateways only, per-gateway credentials in ${layout.hubConfig})`,
      `  data      ${dataDir}`,
      'Ctrl+C stops everything.',
      '',
    ].join('\n'),
  );
}
