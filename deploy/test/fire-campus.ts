import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { CampusPlan } from '@warden/simulators';
import { freePort, eventually, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { writeSystemLayout, type SystemLayout } from '../src/layout.ts';
import { ADMIN_PASSWORD, api, login } from './helpers.ts';

export interface StoredEvent {
  id: string;
  device: string;
  type: string;
  ts: number;
  data: Record<string, unknown>;
}

/**
 * One teaching building for the fire tests, as separate processes over real TCP: a gateway with two doors, a
 * turnstile and a 3F smoke detector (opted into the edge fire fail-safe), the hub and `warden sim` playing the
 * devices. `prefix` keeps the ids of two tests apart. Returns once all four devices are online at the hub.
 * Options: `failsafe: false` leaves the gateway's fire fail-safe off (only the hub can release the doors);
 * `hubPort` points the gateway at another port than the hub's MQTT port (a fault-injecting proxy in front of it);
 * `commandTtl` sets the hub's `commands.ttl`.
 */
export async function startFireCampus(
  prefix: string,
  start: (args: string[]) => WardenProcess,
  opts: { failsafe?: boolean; hubPort?: (mqttPort: number) => Promise<number>; commandTtl?: string } = {},
) {
  const GW = `gw-${prefix}`;
  const DOORS = [`door-${prefix}-1`, `door-${prefix}-2`];
  const GATE = `gate-${prefix}-1`;
  const SMOKE = `smoke-${prefix}-3f`;
  const dir = mkdtempSync(join(tmpdir(), `warden-${prefix}-`));
  const [httpPort, mqttPort, fieldPort] = [await freePort(), await freePort(), await freePort()];
  const building = 'teach-a';
  const plan = {
    gateways: [
      {
        id: GW,
        name: 'Teaching A',
        building,
        devices: [
          ...DOORS.map((id) => ({ id, driver: 'door-controller', kind: 'door', name: id, building })),
          { id: GATE, driver: 'turnstile', kind: 'turnstile', name: GATE, building },
          { id: SMOKE, driver: 'fire-sensor', kind: 'fire_sensor', name: SMOKE, building, zone: '3F' },
        ],
      },
    ],
  } as CampusPlan;
  const layout: SystemLayout = writeSystemLayout(plan, { dataDir: dir, httpPort, mqttPort, fieldPortBase: fieldPort, adminPassword: ADMIN_PASSWORD });
  // The site opts its gateway into the fire fail-safe (off by default: only the site knows its evacuation doors).
  const edgeFile = layout.edgeConfigs.get(GW)!;
  const edgeConfig = parse(readFileSync(edgeFile, 'utf8')) as Record<string, unknown>;
  edgeConfig.failsafe = { fire: opts.failsafe === false ? { enabled: false } : { enabled: true, doors: DOORS, turnstiles: 'all', confirmMs: 5000 } };
  if (opts.hubPort) {
    const hub = edgeConfig.hub as { url: string };
    hub.url = `mqtt://127.0.0.1:${await opts.hubPort(mqttPort)}`;
  }
  writeFileSync(edgeFile, stringify(edgeConfig));
  if (opts.commandTtl) {
    const hubConfig = parse(readFileSync(layout.hubConfig, 'utf8')) as Record<string, unknown>;
    hubConfig.commands = { ttl: opts.commandTtl };
    writeFileSync(layout.hubConfig, stringify(hubConfig), { mode: 0o600 });
  }
  const scenario = join(dir, 'fire.yaml');
  writeFileSync(
    scenario,
    stringify({
      name: `fire-${prefix}`,
      gateways: [
        {
          id: GW,
          url: `mqtt://127.0.0.1:${fieldPort}`,
          // The devices log in to the field broker with the secrets the layout generated (field.requireAuth).
          secrets: Object.fromEntries([...DOORS, GATE, SMOKE].map((id) => [id, layout.deviceSecrets[id]!])),
          devices: [
            ...DOORS.map((id) => ({ id, type: 'door-controller', building, options: { behave: false } })),
            { id: GATE, type: 'turnstile', building, options: { behave: false } },
            { id: SMOKE, type: 'fire-sensor', building, zone: '3F', options: { behave: false } },
          ],
        },
      ],
    }),
  );
  const base = `http://127.0.0.1:${httpPort}`;

  const hub = start(['hub', '--config', layout.hubConfig]);
  await waitForHttp(`${base}/api/health`);
  const token = await login(base);
  const edge = start(['edge', '--config', edgeFile]);
  const sim = start(['sim', scenario]);
  await sim.waitFor(/started: 4 devices online/, 90_000);
  await eventually(
    async () => (await api<{ devices: Array<{ id: string; online: boolean }> }>(base, token, `/api/devices?gateway=${GW}`)).devices.filter((d) => d.online).length === 4,
    30_000,
    'all four devices online at the hub',
  );

  /** Drives a simulated device through warden sim's stdin, as an operator at its console would. */
  const simSays = async (line: string, reply: RegExp) => {
    const seen = sim.lines.length;
    sim.child.stdin!.write(`${line}\n`);
    return eventually(() => sim.lines.slice(seen).find((l) => reply.test(l)), 15_000, `warden sim: ${line}`);
  };
  const deviceState = async (id: string) => JSON.parse((await simSays(`state ${id}`, new RegExp(`^${id} \\{`))).slice(id.length + 1)) as { mode: string };

  return { GW, DOORS, GATE, SMOKE, RELEASED: [...DOORS, GATE], dir, base, mqttPort, token, layout, edgeFile, hub, edge, sim, simSays, deviceState };
}
