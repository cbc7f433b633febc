import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { CampusPlan } from '@warden/simulators';
import { freePort, runWarden, eventually, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { writeSystemLayout } from '../src/layout.ts';
import { ADMIN_PASSWORD, api, login } from './helpers.ts';

const GW = 'gw-fire';
const DOORS = ['door-fire-1', 'door-fire-2'];
const GATE = 'gate-fire-1';
const SMOKE = 'smoke-fire-3f';
const RELEASED = [...DOORS, GATE];

interface StoredEvent {
  id: string;
  device: string;
  type: string;
  ts: number;
  data: Record<string, unknown>;
}

/**
 * Fire linkage across processes over real TCP: a simulated smoke detector (warden sim) → its gateway
 * (warden edge) → the hub (warden hub), whose linkage releases the building's doors and turnstile; the
 * simulated devices obey and reply. Then the same with the hub stopped: the gateway's own fire fail-safe
 * releases them, and once the hub is back it learns what the gateway did.
 */
describe('fire linkage, as separate processes', () => {
  const procs = new Set<WardenProcess>();
  let dir: string | undefined;
  const start = (args: string[]) => {
    const p = runWarden(args);
    procs.add(p);
    return p;
  };

  afterAll(async () => {
    for (const p of [...procs].reverse()) await p.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('smoke alarm → doors held open and turnstile free via the hub; with the hub stopped via the edge fail-safe, reported after it returns', { timeout: 120_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-e2e-fire-'));
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
    const layout = writeSystemLayout(plan, { dataDir: dir, httpPort, mqttPort, fieldPortBase: fieldPort, adminPassword: ADMIN_PASSWORD });
    // The site opts its gateway into the fire fail-safe (off by default: only the site knows its evacuation doors).
    const edgeFile = layout.edgeConfigs.get(GW)!;
    const edgeConfig = parse(readFileSync(edgeFile, 'utf8')) as Record<string, unknown>;
    edgeConfig.failsafe = { fire: { enabled: true, doors: DOORS, turnstiles: 'all', confirmMs: 5000 } };
    writeFileSync(edgeFile, stringify(edgeConfig));
    const scenario = join(dir, 'fire.yaml');
    writeFileSync(
      scenario,
      stringify({
        name: 'e2e-fire',
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

    let hub = start(['hub', '--config', layout.hubConfig]);
    await waitForHttp(`${base}/api/health`);
    let token = await login(base);
    const edge = start(['edge', '--config', edgeFile]);
    const sim = start(['sim', scenario]);
    await sim.waitFor(/started: 4 devices online/);
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
    const events = async (query: string) => (await api<{ events: StoredEvent[] }>(base, token, `/api/events?${query}&limit=500`)).events;
    const results = async () => (await events(`type=command.result&gateway=${GW}`)).map((e) => ({ device: e.device, ...(e.data as { command: string; action: string; ok: boolean }) }));

    // 1. Hub up: the hub's linkage releases the doors and the turnstile; the devices obey and confirm.
    await simSays(`${SMOKE} alarm`, new RegExp(`^ok ${SMOKE} alarm`));
    await eventually(async () => {
      const ok = (await results()).filter((r) => r.ok);
      return RELEASED.every((d) => ok.some((r) => r.device === d && (r.action === 'door.hold_open' || r.action === 'turnstile.set_mode')));
    }, 30_000, 'command.result ok from both doors and the turnstile');
    for (const d of DOORS) expect((await deviceState(d)).mode).toBe('hold_open');
    expect((await deviceState(GATE)).mode).toBe('FREE');
    const { alarms } = await api<{ alarms: Array<{ id: string; type: string; device: string }> }>(base, token, `/api/alarms?type=fire.alarm&device=${SMOKE}`);
    expect(alarms).toHaveLength(1);
    // The hub confirmed within confirmMs: the gateway did not act on its own.
    await new Promise((r) => setTimeout(r, 5500));
    expect(await events(`type=linkage.failsafe&gateway=${GW}`)).toEqual([]);
    const hubCommands = new Set((await results()).map((r) => r.command));

    // Back to normal, from the hub (the only thing that ends a fire hold), and the detector reset.
    for (const d of DOORS) await postCommand(base, token, d, 'door.normal', {});
    await postCommand(base, token, GATE, 'turnstile.set_mode', { mode: 'normal' });
    await simSays(`${SMOKE} clear`, new RegExp(`^ok ${SMOKE} clear`));
    await eventually(async () => (await results()).filter((r) => r.ok && (r.action === 'door.normal' || r.action === 'turnstile.set_mode') && !hubCommands.has(r.command)).length === 3, 30_000, 'back to normal');
    for (const d of DOORS) expect((await deviceState(d)).mode).toBe('normal');
    expect((await deviceState(GATE)).mode).toBe('NORMAL');
    const before = new Set((await results()).map((r) => r.command));

    // 2. Hub stopped (the way the gateway-outage scenario produces an outage: the process goes away).
    await hub.stop();
    procs.delete(hub);
    await edge.waitFor(/hub connection lost/);
    await simSays(`${SMOKE} alarm`, new RegExp(`^ok ${SMOKE} alarm`));
    await eventually(async () => (await Promise.all(DOORS.map(deviceState))).every((s) => s.mode === 'hold_open'), 15_000, 'doors held open by the gateway alone');
    await eventually(async () => (await deviceState(GATE)).mode === 'FREE', 15_000, 'turnstile freed by the gateway alone');

    // 3. Hub back: the gateway's outbox tells it what happened while it was away.
    hub = start(['hub', '--config', layout.hubConfig]);
    await waitForHttp(`${base}/api/health`);
    token = await login(base);
    const [failsafe] = await eventually(async () => {
      const e = await events(`type=linkage.failsafe&gateway=${GW}`);
      return e.length ? e : undefined;
    }, 30_000, 'linkage.failsafe reported after the hub restarted');
    expect(failsafe!.device).toBe(SMOKE);
    const data = failsafe!.data as { trigger: string; reason: string; actions: Array<{ device: string; action: string; command: string }> };
    expect(data.trigger).toBe('fire.alarm');
    expect(data.reason).toBe('hub_down');
    expect(data.actions.map((a) => a.device).sort()).toEqual([...RELEASED].sort());
    const ids = data.actions.map((a) => a.command);
    await eventually(async () => {
      const r = (await results()).filter((x) => !before.has(x.command));
      return ids.every((id) => r.some((x) => x.command === id && x.ok));
    }, 30_000, 'command.result ok for every fail-safe command');
    expect(await events(`type=fire.alarm&device=${SMOKE}`)).toHaveLength(2);
  });
});

async function postCommand(base: string, token: string, device: string, action: string, params: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${base}/api/devices/${device}/commands`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ action, params }),
  });
  if (res.status !== 202) throw new Error(`${action} to ${device}: HTTP ${res.status} ${await res.text()}`);
}
