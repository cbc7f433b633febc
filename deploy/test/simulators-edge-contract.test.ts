import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { CONTRACT_VERSION, REJECT_REASONS, allGatewaysTopic, gatewayTopic, newId, validateBatchEnvelope, validateRecord, type EventRecord, type UplinkRecord } from '@warden/contract';
import { parseEdgeConfig, startEdgeAgent, type EdgeAgent } from '@warden/edge';
import { campusPlan, runScenario, scenarioFromPlan, type RunningScenario } from '@warden/simulators';
import { ackFor } from '../../edge/test/helpers.ts';
import { silent, startBroker, type TestBroker } from '../../simulators/test/helpers.ts';

/**
 * The simulators against the REAL edge agent and its drivers: the library gateway of the demo campus
 * (every device type) plays through the agent's field broker; a stand-in hub (aedes plus a subscriber
 * that validates and acknowledges batches) sees the contract records. Nothing may be rejected.
 */
const GW = 'gw-lib';
let hub: TestBroker;
let hubClient: MqttClient;
let agent: EdgeAgent;
let running: RunningScenario;
let dir: string;
const records: UplinkRecord[] = [];
const invalid: string[] = [];
/** Seqs already seen: the uplink is at-least-once (an ack timeout, or a priority batch carrying its device's earlier
 * records, sends a record again) and the hub stores each seq once; this stand-in does the same. */
const seen = new Map<number, string>();

const events = (device: string, type?: string): EventRecord[] =>
  records.filter((r): r is EventRecord => r.kind === 'event' && r.device === device && (type === undefined || r.type === type));
/** Polls `fn`; the bound only limits how long a failure waits (generous: CI runs this on two loaded cores, under faketime too). */
async function until<T>(fn: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; records:\n${records.map((r) => `${r.device} ${r.kind === 'event' ? r.type : JSON.stringify(r.metrics)}`).join('\n')}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-sim-edge-'));
  hub = await startBroker();
  hubClient = await connectAsync(hub.url, { clientId: `hub-${newId()}`, reconnectPeriod: 0 });
  hubClient.on('message', (topic, payload) => {
    const env = validateBatchEnvelope(JSON.parse(payload.toString()));
    if (!env.ok) return void invalid.push(env.detail);
    for (const r of env.value.records) {
      const v = validateRecord(r);
      if (!v.ok) invalid.push(v.detail);
      else if (seen.has(v.value.seq)) {
        // A record sent again is the same record, never another one under the same seq.
        if (seen.get(v.value.seq) !== v.value.id) invalid.push(`seq ${v.value.seq} reused by ${v.value.id}`);
      } else {
        seen.set(v.value.seq, v.value.id);
        records.push(v.value);
      }
    }
    // A batch can arrive while the test is closing the stand-in hub; the ack is then moot.
    // A priority-lane batch is acknowledged by its seqs, a bulk batch cumulatively (ackFor, as contract/src/records.ts says).
    hubClient.publishAsync(gatewayTopic(env.value.gw, 'ack'), ackFor(env.value), { qos: 1 }).catch(() => undefined);
  });
  await hubClient.subscribeAsync(allGatewaysTopic('up'), { qos: 1 });

  const plan = campusPlan({ scale: 'demo' });
  const gw = plan.gateways.find((g) => g.id === GW)!;
  const config = parseEdgeConfig({
    gateway: { id: GW, name: gw.name },
    hub: { url: hub.url, password: 'stand-in-hub-accepts-anything' },
    field: { host: '127.0.0.1', port: 0, requireAuth: false }, // loopback bench; field auth: edge/test/field-security.test.ts
    outbox: { path: join(dir, 'outbox.db') },
    devices: gw.devices.map((d) => ({ id: d.id, driver: d.driver, name: d.name, building: d.building, ...(d.medium ? { options: { medium: d.medium } } : {}) })),
  });
  agent = await startEdgeAgent(config, { logger: silent });

  const scenario = scenarioFromPlan({ gateways: [gw] }, { [GW]: `mqtt://127.0.0.1:${agent.field.port}` });
  // Quiet devices, so each record below is the answer to one action.
  for (const d of scenario.gateways[0]!.devices) d.options = { ...d.options, behave: false };
  running = await runScenario(scenario, { speed: 50, logger: silent });
});

afterAll(async () => {
  await running?.stop();
  await agent?.stop();
  await hubClient?.endAsync();
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

const act = (device: string, action: string, arg?: unknown) => running.devices.get(device)!.act(action, arg);

async function command(device: string, action: string, params: Record<string, unknown>): Promise<EventRecord> {
  const id = newId();
  await hubClient.publishAsync(gatewayTopic(GW, 'cmd'), JSON.stringify({ v: CONTRACT_VERSION, id, device, action, params, ts: Date.now() }), { qos: 1 });
  return until(
    () => records.find((r): r is EventRecord => r.kind === 'event' && r.type === 'command.result' && (r.data as { command: string }).command === id),
    `result of ${action}`,
  );
}

describe('simulators through the real edge agent', () => {
  it('every device is seen online by the gateway', async () => {
    await until(() => agent.devicesOnline() === running.devices.size, 'all devices online');
  });

  it('native events decode into the expected contract records', async () => {
    await act('door-lib-1', 'pass', '0012345678');
    await act('door-lib-2', 'force', 1);
    await act('door-lib-3', 'deniedBurst', 2);
    await act('gate-lib-1', 'tailgate', 'IN');
    await act('smoke-lib-1f-1', 'alarm', 7);
    await act('smoke-lib-1f-1', 'fault', 'dirty_chamber');
    await act('smoke-lib-1f-1', 'clear');
    await act('sos-lib-1', 'press');
    await act('sos-lib-1', 'reset');
    await act('ias-lib-1-z1', 'alarm');
    await act('meter-lib-power', 'read');
    await act('meter-lib-water', 'read');
    await act('relay-lib-1', 'toggle');

    await until(() => events('door-lib-1', 'door.locked').length > 0, 'door-lib-1 relocked');
    expect(events('door-lib-1').map((r) => r.type).filter((t) => t !== 'device.online')).toEqual([
      'access.granted',
      'door.unlocked',
      'door.opened',
      'door.closed',
      'door.locked',
    ]);
    expect(events('door-lib-1', 'access.granted')[0]).toMatchObject({ data: { method: 'card', credential: '0012345678' } });
    await until(() => events('door-lib-2', 'door.forced').length === 1, 'door.forced');
    await until(() => events('door-lib-3', 'access.denied').length === 2, 'access.denied x2');
    const passes = await until(() => events('gate-lib-1', 'turnstile.pass').length === 2 && events('gate-lib-1', 'turnstile.pass'), 'passes');
    expect(passes.map((r) => (r.data as { granted: boolean }).granted)).toEqual([true, false]);
    expect(events('gate-lib-1', 'turnstile.mode')[0]).toMatchObject({ data: { mode: 'normal' } });
    for (const t of ['fire.alarm', 'fire.fault', 'fire.cleared']) await until(() => events('smoke-lib-1f-1', t).length === 1, t);
    for (const t of ['emergency.call', 'emergency.cleared']) await until(() => events('sos-lib-1', t).length === 1, t);
    await until(() => events('ias-lib-1-z1', 'intrusion.alarm').length === 1, 'intrusion.alarm');
    const metric = (device: string, name: string) => records.find((r) => r.kind === 'telemetry' && r.device === device && name in r.metrics);
    await until(() => metric('meter-lib-power', 'energy_kwh') && metric('meter-lib-water', 'volume_m3') && metric('smoke-lib-1f-1', 'smoke_obscuration'), 'telemetry');
    await until(() => events('relay-lib-1', 'actuator.state').some((r) => (r.data as { on: boolean }).on), 'actuator.state on');
  });

  it('commands from the hub are obeyed and answered with command.result ok', async () => {
    expect((await command('door-lib-1', 'door.hold_open', {})).data).toMatchObject({ ok: true, action: 'door.hold_open' });
    expect(running.devices.get('door-lib-1')!.state()).toMatchObject({ mode: 'hold_open', locked: false });
    expect((await command('door-lib-1', 'door.normal', {})).data).toMatchObject({ ok: true });
    expect((await command('gate-lib-2', 'turnstile.set_mode', { mode: 'free' })).data).toMatchObject({ ok: true });
    expect(running.devices.get('gate-lib-2')!.state()).toMatchObject({ mode: 'FREE' });
    expect((await command('relay-lib-1', 'actuator.set', { on: true, level: 55 })).data).toMatchObject({ ok: true });
    expect(running.devices.get('relay-lib-1')!.state()).toMatchObject({ on: true, level: 55 });
    expect((await command('ias-lib-1-z1', 'intrusion.disarm', {})).data).toMatchObject({ ok: true });
    // A refusal by the device reaches the hub with the device's reason.
    await act('ias-lib-1-z1', 'tamper');
    const refused = await command('ias-lib-1-z1', 'intrusion.arm', {});
    expect(refused.data).toMatchObject({ ok: false, error: expect.stringMatching(/not ready \(TAMPER\)/) });
  });

  it('dropOff reaches the hub as device.offline, comeBack as device.online', async () => {
    await act('relay-lib-1', 'dropOff');
    await until(() => events('relay-lib-1', 'device.offline').length === 1, 'device.offline');
    await act('relay-lib-1', 'comeBack');
    await until(() => events('relay-lib-1', 'device.online').length === 2, 'device.online again');
  });

  it('the agent rejected nothing the simulators said, and every record was valid', () => {
    expect(invalid).toEqual([]);
    expect(Object.fromEntries(REJECT_REASONS.map((r) => [r, agent.metrics.get(`rejected.${r}`)]))).toEqual(Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])));
  });
});
