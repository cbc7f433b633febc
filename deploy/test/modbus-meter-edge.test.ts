import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { CONTRACT_VERSION, allGatewaysTopic, gatewayTopic, newId, validateBatchEnvelope, validateRecord, type UplinkRecord } from '@warden/contract';
import { parseEdgeConfig, startEdgeAgent, type EdgeAgent } from '@warden/edge';
import { startModbusMeterServer, type ModbusMeterServer } from '@warden/simulators';
import { silent, startBroker, type TestBroker } from '../../simulators/test/helpers.ts';

/**
 * The simulated Modbus TCP meters read by the REAL edge agent over real TCP (127.0.0.1, ephemeral
 * ports): the agent's poller → register map → ingest → outbox → a stand-in hub that validates and acks.
 */
let hub: TestBroker;
let hubClient: MqttClient;
let agent: EdgeAgent;
let power: ModbusMeterServer;
let water: ModbusMeterServer;
let dir: string;
const records: UplinkRecord[] = [];

async function until<T>(fn: () => T | undefined | false, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const telemetry = (device: string) => records.filter((r) => r.kind === 'telemetry' && r.device === device) as Array<Extract<UplinkRecord, { kind: 'telemetry' }>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-sim-modbus-'));
  power = await startModbusMeterServer({ id: 'pm-lib-mb', map: 'sdm630', unitId: 7, speed: 3600, initialTotal: 5000, startHour: 10 });
  water = await startModbusMeterServer({ id: 'wm-lib-mb', map: 'water-u32-litres', speed: 3600, initialTotal: 120.5, startHour: 10 });
  hub = await startBroker();
  hubClient = await connectAsync(hub.url, { clientId: `hub-${newId()}`, reconnectPeriod: 0 });
  hubClient.on('message', (_topic, payload) => {
    const env = validateBatchEnvelope(JSON.parse(payload.toString()));
    if (!env.ok) throw new Error(env.detail);
    let upTo = 0;
    for (const r of env.value.records) {
      const v = validateRecord(r);
      if (!v.ok) throw new Error(v.detail);
      records.push(v.value);
      upTo = Math.max(upTo, v.value.seq);
    }
    hubClient.publishAsync(gatewayTopic(env.value.gw, 'ack'), JSON.stringify({ v: CONTRACT_VERSION, upTo }), { qos: 1 }).catch(() => undefined);
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
    await until(() => telemetry('wm-lib-mb').some((r) => r.metrics.volume_m3! < 4), 'the rewritten register');
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
