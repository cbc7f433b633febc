import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { allGatewaysTopic, gatewayTopic, newId, validateBatchEnvelope, validateRecord, type UplinkRecord } from '@warden/contract';
import { parseEdgeConfig, startEdgeAgent, type EdgeAgent } from '@warden/edge';
import { startModbusMeterServer, type ModbusMeterServer } from '@warden/simulators';
import { ackFor } from '../../edge/test/helpers.ts';
import { silent, startBroker, type TestBroker } from '../../simulators/test/helpers.ts';

/**
 * The simulated Modbus TCP meters read by the REAL edge agent over real TCP (127.0.0.1, ephemeral
 * ports): the agent's poller → register map → ingest → outbox → a stand-in hub that validates, stores each seq once
 * and acks as the contract says.
 */
let hub: TestBroker;
let hubClient: MqttClient;
let agent: EdgeAgent;
let power: ModbusMeterServer;
let water: ModbusMeterServer;
let dir: string;
const records: UplinkRecord[] = [];
/** Seqs already stored: the uplink is at-least-once (an ack timeout resends from the oldest unacked record) and the hub stores each seq once. */
const seen = new Map<number, string>();

/** Polls `fn`; the bound only limits how long a failure waits (generous: a loaded CI machine polls Modbus late). */
async function until<T>(fn: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const telemetry = (device: string) => records.filter((r) => r.kind === 'telemetry' && r.device === device) as Array<Extract<UplinkRecord, { kind: 'telemetry' }>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-sim-modbus-'));
  power = await startModbusMeterServer({ id: 'pm-lib-mb', map: 'sdm630', unitId: 7, speed: 3600, initialTotal: 5000, startHour: 10 });
  // A simulated minute per second: at its 6 m³/h peak the water total moves 0.1 m³ a second, so the rewritten register
  // (3 m³) still reads under 4 m³ for ten seconds (at 3600x it passed 4 m³ within ~170 ms, which a loaded machine missed).
  water = await startModbusMeterServer({ id: 'wm-lib-mb', map: 'water-u32-litres', speed: 60, initialTotal: 120.5, startHour: 10 });
  hub = await startBroker();
  hubClient = await connectAsync(hub.url, { clientId: `hub-${newId()}`, reconnectPeriod: 0 });
  hubClient.on('message', (_topic, payload) => {
    const env = validateBatchEnvelope(JSON.parse(payload.toString()));
    if (!env.ok) throw new Error(env.detail);
    for (const r of env.value.records) {
      const v = validateRecord(r);
      if (!v.ok) throw new Error(v.detail);
      const id = seen.get(v.value.seq);
      // A record sent again is the same record, never another one under the same seq.
      if (id !== undefined && id !== v.value.id) throw new Error(`seq ${v.value.seq} reused by ${v.value.id}`);
      if (id !== undefined) continue;
      seen.set(v.value.seq, v.value.id);
      records.push(v.value);
    }
    // A priority batch is acknowledged by its seqs, a bulk batch cumulatively (ackFor, as the contract says).
    hubClient.publishAsync(gatewayTopic(env.value.gw, 'ack'), ackFor(env.value), { qos: 1 }).catch(() => undefined);
  });
  await hubClient.subscribeAsync(allGatewaysTopic('up'), { qos: 1 });
  agent = await startEdgeAgent(
    parseEdgeConfig({
      gateway: { id: 'gw-mb' },
      hub: { url: hub.url, password: 'stand-in-hub-accepts-anything' },
      field: { host: '127.0.0.1', port: 0, requireAuth: false }, // loopback bench; field auth: edge/test/field-security.test.ts
      outbox: { path: join(dir, 'outbox.db') },
      devices: [
        { id: 'pm-lib-mb', driver: 'modbus-meter', building: 'library', options: { medium: 'power', host: '127.0.0.1', port: power.port, unitId: 7, map: 'sdm630', pollSeconds: 0.1, timeoutMs: 1000 } },
        { id: 'wm-lib-mb', driver: 'modbus-meter', building: 'library', options: { medium: 'water', host: '127.0.0.1', port: water.port, map: 'water-u32-litres', pollSeconds: 0.1, timeoutMs: 1000 } },
      ],
    }),
    { logger: silent },
  );
});

afterAll(async () => {
  await agent?.stop();
  await power?.stop();
  await water?.stop();
  await hubClient?.endAsync();
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('simulated Modbus TCP meters through the real edge agent', () => {
  it('power meter: the register read over TCP arrives as energy_kwh / power_kw, rising with the simulated draw', async () => {
    await until(() => telemetry('pm-lib-mb').length >= 3, 'three power readings');
    const readings = telemetry('pm-lib-mb');
    for (const r of readings) {
      expect(Object.keys(r.metrics).sort()).toEqual(['energy_kwh', 'power_kw']);
      expect(r.metrics.power_kw).toBeGreaterThan(0);
    }
    const totals = readings.map((r) => r.metrics.energy_kwh!);
    expect(totals[0]).toBeGreaterThanOrEqual(5000);
    for (let i = 1; i < totals.length; i++) expect(totals[i]).toBeGreaterThanOrEqual(totals[i - 1]!);
    expect(power.state().requests).toBeGreaterThanOrEqual(3);
    expect(records.some((r) => r.kind === 'event' && r.device === 'pm-lib-mb' && r.type === 'device.online')).toBe(true);
  });

  it('water meter: litre counter (u32, low word first) becomes volume_m3; a register written back shows up as read', async () => {
    await until(() => telemetry('wm-lib-mb').length >= 1, 'a water reading');
    expect(telemetry('wm-lib-mb')[0]!.metrics.volume_m3).toBeGreaterThanOrEqual(120.5);
    water.act('setTotal', 3);
    await until(() => telemetry('wm-lib-mb').some((r) => r.metrics.volume_m3! >= 3 && r.metrics.volume_m3! < 4), 'the rewritten register');
  });

  it('a meter that goes away is reported offline by the agent, and online again when it returns', async () => {
    const port = power.port;
    await power.stop();
    await until(() => records.some((r) => r.kind === 'event' && r.device === 'pm-lib-mb' && r.type === 'device.offline'), 'device.offline');
    power = await startModbusMeterServer({ id: 'pm-lib-mb', map: 'sdm630', unitId: 7, port, speed: 3600, initialTotal: 6000 });
    const onlines = () => records.filter((r) => r.kind === 'event' && r.device === 'pm-lib-mb' && r.type === 'device.online').length;
    await until(() => onlines() >= 2, 'device.online after the meter returned');
    expect(agent.metrics.registry.getSingleMetric('warden_edge_modbus_errors_total')).toBeDefined();
  });
});
