import { mkdirSync, writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { scenarioFromPlan, type CampusPlan } from '@warden/simulators';
import { schematicSitePlan } from './site-plan.ts';
import { energySection } from './energy-layout.ts';
import { campusCameras, type PlanCamera } from './camera-layout.ts';

export interface LayoutOptions {
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  /** Gateway i's field broker listens on fieldPortBase + i. */
  fieldPortBase: number;
  /** Undefined: generated on the first start and kept in the data dir, like the gateway passwords. */
  adminPassword?: string;
  /** Simulated meters first publish this many days of history (a new data dir); 0 or undefined: live only. */
  backfillDays?: number;
  /** Folder of face photos the simulated face terminals send (deploy/src/demo-faces.ts); unset: cards only. */
  faceImages?: string;
  /** Cards the simulated face terminals present now and then. */
  faceCards?: string[];
  /** Virtual ONVIF cameras of a campus plan (deploy/src/camera-layout.ts) on these ports; unset: no cameras. */
  cameras?: { port: number; rtspPort: number };
}

export interface SystemLayout {
  hubConfig: string;
  edgeConfigs: Map<string, string>;
  scenario: string;
  gatewayPasswords: Record<string, string>;
  /** Each field device's secret for its gateway's field broker (username = device id). */
  deviceSecrets: Record<string, string>;
  adminPassword: string;
  /** The virtual cameras (registered, on their gateways, served by their own simulator process). */
  cameras: PlanCamera[];
  /** `warden sim` scenario serving only the cameras (started before the gateways probe them); null without cameras. */
  cameraScenario: string | null;
}

interface Secrets {
  admin?: string;
  gateways: Record<string, string>;
  /** Face gallery keys of gateways with face terminals (32 bytes, hex). */
  galleryKeys?: Record<string, string>;
  /** Field secrets: each device logs in to its gateway's field broker as itself (edge field.requireAuth, on by default). */
  devices?: Record<string, string>;
}

function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Gateway passwords are generated once per data dir and kept, so restarts keep working credentials. */
function loadSecrets(dataDir: string, gatewayIds: string[], faceGatewayIds: string[], adminPassword: string | undefined, deviceIds: string[] = []): Secrets {
  const file = join(dataDir, 'secrets.json');
  const secrets: Secrets = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Secrets) : { gateways: {} };
  secrets.admin = adminPassword ?? secrets.admin ?? randomBytes(12).toString('base64url');
  for (const id of gatewayIds) secrets.gateways[id] ??= randomBytes(18).toString('base64url');
  secrets.galleryKeys ??= {};
  for (const id of faceGatewayIds) secrets.galleryKeys[id] ??= randomBytes(32).toString('hex');
  secrets.devices ??= {};
  for (const id of deviceIds) secrets.devices[id] ??= randomBytes(18).toString('base64url');
  writePrivate(file, JSON.stringify(secrets, null, 2));
  return secrets;
}

/**
 * Turns a campus plan into the files a real deployment has: one hub config, one edge-agent config per
 * gateway (each with its own credentials) and the simulator scenario that plays the field devices.
 */
export function writeSystemLayout(plan: CampusPlan, o: LayoutOptions): SystemLayout {
  mkdirSync(join(o.dataDir, 'edge'), { recursive: true });
  const faceGateways = plan.gateways.filter((g) => g.devices.some((d) => d.driver === 'face-terminal')).map((g) => g.id);
  const cameras = o.cameras ? campusCameras(plan) : [];
  const secrets = loadSecrets(
    o.dataDir,
    plan.gateways.map((g) => g.id),
    faceGateways,
    o.adminPassword,
    // A camera's secret is its ONVIF/RTSP password (user admin), known to its gateway and the hub's relay.
    [...plan.gateways.flatMap((g) => g.devices.map((d) => d.id)), ...cameras.map((c) => c.id)],
  );
  const xaddr = (id: string): string => `http://127.0.0.1:${o.cameras!.port}/onvif/${id}/device_service`;
  const hubConfig = join(o.dataDir, 'hub.yaml');
  const site = schematicSitePlan(plan);
  const sitePlanFile = join(o.dataDir, 'site-plan.svg');
  writeFileSync(sitePlanFile, site.svg);
  writePrivate(
    hubConfig,
    stringify({
      http: { host: '127.0.0.1', port: o.httpPort },
      mqtt: { host: '127.0.0.1', port: o.mqttPort },
      dataDir: join(o.dataDir, 'hub'),
      admin: { password: secrets.admin },
      gateways: plan.gateways.map((g) => ({ id: g.id, name: g.name, password: secrets.gateways[g.id] })),
      // The hub's own device registry: what each device is and where, adopted at start (a gateway's inventory only
      // proposes devices, and cannot relabel these).
      devices: {
        registry: [
          ...plan.gateways.flatMap((g) =>
            g.devices.map((d) => ({ id: d.id, gateway: g.id, kind: d.kind, name: d.name, building: d.building, ...(d.zone ? { zone: d.zone } : {}) })),
          ),
          ...cameras.map((c) => ({ id: c.id, gateway: c.gateway, kind: 'camera', name: c.name, building: c.building, zone: c.zone })),
        ],
      },
      ...(cameras.length ? { video: cameraVideoSection(plan, cameras, o.cameras!, xaddr, secrets.devices!) } : {}),
      energy: energySection(plan),
      site: { plan: sitePlanFile, width: site.width, height: site.height, markers: site.markers },
    }),
  );
  const edgeConfigs = new Map<string, string>();
  const fieldUrls: Record<string, string> = {};
  plan.gateways.forEach((g, i) => {
    const port = o.fieldPortBase + i;
    fieldUrls[g.id] = `mqtt://127.0.0.1:${port}`;
    const file = join(o.dataDir, 'edge', `${g.id}.yaml`);
    writePrivate(
      file,
      stringify({
        gateway: { id: g.id, name: g.name },
        hub: { url: `mqtt://127.0.0.1:${o.mqttPort}`, password: secrets.gateways[g.id] },
        field: { host: '127.0.0.1', port },
        outbox: { path: join(o.dataDir, 'edge', `${g.id}-outbox.db`) },
        // A simulated campus gateway serves one building, so every door and turnstile behind it is on its
        // evacuation routes; a real site lists them (edge/README.md, "Fire fail-safe").
        failsafe: { fire: { enabled: true, doors: 'all', turnstiles: 'all' } },
        // A gateway with face terminals decides on faces itself, from the gallery the hub syncs to it.
        ...(faceGateways.includes(g.id)
          ? {
              face: {
                enabled: true,
                gallery: join(o.dataDir, 'edge', `${g.id}-face-gallery.bin`),
                galleryKey: secrets.galleryKeys![g.id],
                // Only dorm check-in points that read cards (the demo night): no face models on this gateway.
                ...(g.devices.filter((d) => d.driver === 'face-terminal').every((d) => d.edge?.mode === 'dorm') ? { cardsOnly: true } : {}),
              },
            }
          : {}),
        devices: g.devices.map((d) => {
          const options = { ...d.edge, ...(d.medium ? { medium: d.medium } : {}) };
          return {
            id: d.id,
            driver: d.driver,
            name: d.name,
            ...(d.building ? { building: d.building } : {}),
            ...(d.zone ? { zone: d.zone } : {}),
            // Polled devices (Modbus, ONVIF) never log in and ignore it; the simulators log in with the same secret.
            secret: secrets.devices![d.id],
            ...(Object.keys(options).length ? { options } : {}),
          };
        }).concat(
          cameras
            .filter((c) => c.gateway === g.id)
            .map((c) => ({
              id: c.id,
              driver: 'onvif-camera',
              name: c.name,
              building: c.building,
              zone: c.zone,
              secret: secrets.devices![c.id]!,
              options: { xaddr: xaddr(c.id), username: 'admin', password: secrets.devices![c.id]!, events: c.events } as Record<string, unknown>,
            })),
        ),
      }),
    );
    edgeConfigs.set(g.id, file);
  });
  const scenario = join(o.dataDir, 'campus-scenario.yaml');
  const played = scenarioFromPlan(plan, fieldUrls);
  for (const g of played.gateways) {
    const ids = new Set(g.devices.map((d) => d.id));
    g.secrets = Object.fromEntries(Object.entries(secrets.devices!).filter(([id]) => ids.has(id)));
  }
  for (const d of played.gateways.flatMap((g) => g.devices)) {
    if (d.type === 'meter' && o.backfillDays) d.options = { ...d.options, backfillDays: o.backfillDays };
    // Dorm check-in points playing a night (options.night) present only the night's cards.
    if (d.type === 'face-terminal' && !d.options?.night) d.options = { ...d.options, ...(o.faceImages ? { images: o.faceImages } : {}), ...(o.faceCards?.length ? { cards: o.faceCards } : {}) };
  }
  writeFileSync(scenario, stringify(played));
  let cameraScenario: string | null = null;
  if (cameras.length) {
    // One simulator process serves every camera, up before the gateways start probing (a camera found dark at
    // start would go offline); one small ffmpeg test stream feeds all their RTSP URIs. No field devices in it.
    cameraScenario = join(o.dataDir, 'camera-scenario.yaml');
    const first = plan.gateways[0]!;
    writeFileSync(
      cameraScenario,
      stringify({
        name: `campus-${plan.scale}-cameras`,
        description: `the ${plan.scale} campus's ${cameras.length} virtual ONVIF cameras`,
        gateways: [{ id: first.id, url: fieldUrls[first.id], devices: [] }],
        cameras: {
          host: '127.0.0.1',
          port: o.cameras!.port,
          video: { rtspPort: o.cameras!.rtspPort, width: 320, height: 180, fps: 5 },
          list: cameras.map((c) => ({ id: c.id, password: secrets.devices![c.id]!, name: c.name, ptz: c.ptz })),
        },
      }),
    );
  }
  return { hubConfig, edgeConfigs, scenario, gatewayPasswords: secrets.gateways, deviceSecrets: secrets.devices!, adminPassword: secrets.admin!, cameras, cameraScenario };
}

/**
 * hub.yaml `video:` for the plan's cameras: every camera's ONVIF service for snapshots (alarm linkage, face
 * sightings at the face terminal's door), the RTSP stream of the live ones (the simulator's RTSP server speaks
 * RTP over UDP only).
 */
function cameraVideoSection(
  plan: CampusPlan,
  cameras: PlanCamera[],
  ports: { port: number; rtspPort: number },
  xaddr: (id: string) => string,
  passwords: Record<string, string>,
): Record<string, unknown> {
  const faceCameras: Record<string, string> = {};
  for (const g of plan.gateways) {
    const cam = cameras.find((c) => c.gateway === g.id && c.zone === '1F');
    if (!cam) continue;
    for (const d of g.devices) if (d.driver === 'face-terminal' && d.edge?.mode !== 'dorm') faceCameras[d.id] = cam.id;
  }
  return {
    cameras: Object.fromEntries(
      cameras.map((c) => [
        c.id,
        {
          ...(c.live ? { url: `rtsp://127.0.0.1:${ports.rtspPort}/cameras/${c.id}`, transport: 'udp' } : {}),
          onvif: xaddr(c.id),
          username: 'admin',
          password: passwords[c.id]!,
        },
      ]),
    ),
    snapshots: { faceCameras },
  };
}
