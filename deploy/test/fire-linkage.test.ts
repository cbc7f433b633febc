import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runWarden, eventually, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { api, login } from './helpers.ts';
import { startFireCampus, type StoredEvent } from './fire-campus.ts';

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
    const campus = await startFireCampus('fire', start);
    const { GW, DOORS, GATE, SMOKE, RELEASED, base, layout, edge, simSays, deviceState } = campus;
    dir = campus.dir;
    let { hub, token } = campus;
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
