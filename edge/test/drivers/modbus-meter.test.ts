import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerTCP } from 'modbus-serial';
import { validateRecord, type UplinkRecord } from '@warden/contract';
import { parseEdgeConfig } from '../../src/config.ts';
import { buildDeviceTable } from '../../src/devices.ts';
import { FieldIngest } from '../../src/ingest.ts';
import { EdgeMetrics } from '../../src/metrics.ts';
import { Outbox } from '../../src/outbox.ts';
import { decodeRegister, encodeRegister } from '../../src/modbus/codec.ts';
import { ModbusPoller, type ModbusMeterOptions } from '../../src/modbus/poller.ts';
import { REGISTER_MAPS } from '../../src/modbus/register-maps/index.ts';
import { checkMap } from '../../src/modbus/register-map.ts';
import { NOW, silent, tempDir } from '../helpers.ts';

/** A Modbus TCP meter with fixed register words (the true system edge), on 127.0.0.1:port (0 = any). */
async function fakeMeter(words: Map<number, number>, port = 0) {
  const read = (addr: number, length: number) => Array.from({ length }, (_, i) => words.get(addr + i) ?? 0);
  const server = new ServerTCP({ getMultipleInputRegisters: read, getMultipleHoldingRegisters: read }, { host: '127.0.0.1', port: port === 0 ? ('0' as unknown as number) : port, unitID: 255 }); // ServerTCP turns a numeric 0 into 502
  await new Promise<void>((resolve) => server.once('initialized', () => resolve()));
  server.on('socketError', () => {});
  const addr = (server as unknown as { _server: import('node:net').Server })._server.address() as AddressInfo;
  return {
    port: addr.port,
    stop: () => new Promise<void>((resolve) => {
      for (const s of server.socks.keys()) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function place(words: Map<number, number>, address: number, ws: number[]) {
  ws.forEach((w, i) => words.set(address + i, w));
}

function setup(options: Record<string, unknown>) {
  const tmp = tempDir();
  const config = parseEdgeConfig({ gateway: { id: 'gw-test' }, outbox: { path: join(tmp.dir, 'outbox.db') }, devices: [{ id: 'pm-1', driver: 'modbus-meter', options }] });
  const devices = buildDeviceTable(config.devices);
  const outbox = Outbox.open(config.outbox.path);
  const metrics = new EdgeMetrics({ backlog: () => outbox.backlog(), hubConnected: () => false, devicesOnline: () => 0 });
  const ingest = new FieldIngest({ devices, outbox, metrics, logger: silent, onRecords: () => {}, onReply: () => {}, now: () => NOW });
  const availability: Array<[boolean, string]> = [];
  const poller = new ModbusPoller({
    deviceId: 'pm-1',
    options: devices.get('pm-1')!.options as unknown as ModbusMeterOptions,
    emit: (id, e) => ingest.commit(id, e),
    onAvailability: (_id, online, reason) => availability.push([online, reason]),
    registry: metrics.registry,
    logger: silent,
    now: () => NOW,
  });
  const records = (): UplinkRecord[] => {
    const rs = outbox.peek(0, 1000);
    for (const r of rs) expect(validateRecord(r).ok).toBe(true);
    return rs;
  };
  const errors = async (reason: string) =>
    (await metrics.registry.getSingleMetric('warden_edge_modbus_errors_total')!.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  return {
    poller,
    records,
    availability,
    errors,
    close: async () => {
      await poller.stop();
      outbox.close();
      tmp.remove();
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('modbus codec and register maps', () => {
  it('decodes each type and word order', () => {
    expect(decodeRegister([0xfffe], 'u16')).toBe(65534);
    expect(decodeRegister([0xfffe], 'i16')).toBe(-2);
    expect(decodeRegister([0x0001, 0x0002], 'u32')).toBe(65538);
    expect(decodeRegister([0x0002, 0x0001], 'u32', 'little')).toBe(65538);
    expect(decodeRegister([0xffff, 0xfffe], 'i32')).toBe(-2);
    expect(decodeRegister([0x4640, 0xe400], 'float32')).toBe(12345);
    expect(decodeRegister([0xe400, 0x4640], 'float32', 'little')).toBe(12345);
    for (const [v, t] of [[70000, 'u32'], [-70000, 'i32'], [1234.5, 'float32'], [-3, 'i16']] as const) {
      for (const order of ['big', 'little'] as const) expect(decodeRegister(encodeRegister(v, t, order), t, order)).toBe(v);
    }
  });

  it('ships valid maps', () => {
    expect(REGISTER_MAPS.size).toBeGreaterThan(0);
    for (const m of REGISTER_MAPS.values()) expect(checkMap(m)).toEqual([]);
    expect(checkMap({ name: 'bad', description: '', medium: 'power', table: 'input', registers: [{ metric: 'x', address: 0, type: 'u16', scale: 0, unit: '' }, { metric: 'x', address: 200, type: 'u16', scale: 1, unit: '' }] })).toEqual([
      'bad/registers/0/scale: must be a non-zero number',
      'bad/registers/1/metric: duplicate metric x',
    ]);
  });

  it('checks device options with paths', () => {
    expect(() => parseEdgeConfig({ gateway: { id: 'g' }, devices: [{ id: 'm', driver: 'modbus-meter', options: { medium: 'power', host: 'x', map: 'nope', unitId: 300 } }] })).toThrow(
      /devices\/0\/options\/unitId[\s\S]*devices\/0\/options\/map: "nope" is not one of sdm630, water-u32-litres|devices\/0\/options\/map[\s\S]*unitId/,
    );
    const cfg = parseEdgeConfig({ gateway: { id: 'g' }, devices: [{ id: 'm', driver: 'modbus-meter', options: { medium: 'water', host: '10.0.0.5', map: 'water-u32-litres' } }] });
    expect(cfg.devices[0]!.options).toMatchObject({ port: 502, unitId: 1, pollSeconds: 60, timeoutMs: 3000, offlineAfterFailures: 2 });
  });
});

describe('modbus-meter driver over real TCP', () => {
  it('power (SDM630 floats, input registers) → energy_kwh and power_kw telemetry', async () => {
    const words = new Map<number, number>();
    place(words, 0x0034, encodeRegister(4250, 'float32')); // W
    place(words, 0x0048, encodeRegister(12345.5, 'float32'));
    const meter = await fakeMeter(words);
    cleanups.push(meter.stop);
    const h = setup({ medium: 'power', host: '127.0.0.1', port: meter.port, map: 'sdm630', timeoutMs: 500 });
    cleanups.push(h.close);
    expect(await h.poller.pollOnce()).toBe(true);
    const [r] = h.records();
    expect(r).toMatchObject({ device: 'pm-1', kind: 'telemetry', ts: NOW, metrics: { energy_kwh: 12345.5, power_kw: 4.25 } });
    expect(h.availability).toEqual([[true, 'disconnect']]);
  });

  it('water (u32 litres, low word first, holding registers) → volume_m3 and flow_m3h', async () => {
    const words = new Map<number, number>();
    place(words, 0, encodeRegister(881_234, 'u32', 'little'));
    place(words, 2, encodeRegister(63, 'u16'));
    const meter = await fakeMeter(words);
    cleanups.push(meter.stop);
    const h = setup({ medium: 'water', host: '127.0.0.1', port: meter.port, map: 'water-u32-litres', timeoutMs: 500 });
    cleanups.push(h.close);
    expect(await h.poller.pollOnce()).toBe(true);
    expect(h.records()[0]).toMatchObject({ kind: 'telemetry', metrics: { volume_m3: 881.234, flow_m3h: 0.63 } });
  });

  it('counts connection errors, reports the meter offline, and recovers when it is back', async () => {
    const words = new Map<number, number>();
    place(words, 0, encodeRegister(1000, 'u32', 'little'));
    const meter = await fakeMeter(words);
    const port = meter.port;
    const h = setup({ medium: 'water', host: '127.0.0.1', port, map: 'water-u32-litres', timeoutMs: 500, offlineAfterFailures: 2 });
    cleanups.push(h.close);
    expect(await h.poller.pollOnce()).toBe(true);
    await meter.stop();
    expect(await h.poller.pollOnce()).toBe(false);
    expect(h.availability).toEqual([[true, 'disconnect']]);
    expect(await h.poller.pollOnce()).toBe(false);
    expect(h.availability).toEqual([[true, 'disconnect'], [false, 'disconnect']]);
    expect((await h.errors('connect')) + (await h.errors('io')) + (await h.errors('timeout'))).toBe(2);
    const again = await fakeMeter(words, port);
    cleanups.push(again.stop);
    expect(await h.poller.pollOnce()).toBe(true);
    expect(h.availability.at(-1)).toEqual([true, 'disconnect']);
    expect(h.records()).toHaveLength(2);
  });

  it('a meter that does not answer times out, counted as timeout', async () => {
    // A TCP listener that accepts and never replies: a hung converter.
    const silentServer = createServer(() => {});
    await new Promise<void>((r) => silentServer.listen(0, '127.0.0.1', r));
    const sockets = new Set<import('node:net').Socket>();
    silentServer.on('connection', (s) => sockets.add(s));
    cleanups.push(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); silentServer.close(() => r()); }));
    const h = setup({ medium: 'power', host: '127.0.0.1', port: (silentServer.address() as AddressInfo).port, map: 'sdm630', timeoutMs: 100, offlineAfterFailures: 1 });
    cleanups.push(h.close);
    expect(await h.poller.pollOnce()).toBe(false);
    expect(await h.errors('timeout')).toBe(1);
    expect(h.availability).toEqual([[false, 'timeout']]);
    expect(h.records()).toEqual([]);
  });
});
