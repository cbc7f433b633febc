import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateRecord } from '@warden/contract';
import { parseEdgeConfig } from '../src/config.ts';
import { buildDeviceTable } from '../src/devices.ts';
import { FieldIngest } from '../src/ingest.ts';
import { EdgeMetrics } from '../src/metrics.ts';
import { Outbox } from '../src/outbox.ts';
import { decodeBlock, decodeRegister } from '../src/modbus/codec.ts';
import { ModbusPoller, type ModbusMeterOptions } from '../src/modbus/poller.ts';
import { span } from '../src/modbus/register-map.ts';
import { REGISTER_MAPS } from '../src/modbus/register-maps/index.ts';
import { NOW, silent, tempDir } from './helpers.ts';

/**
 * Golden register frames, written by hand from the meters' datasheets (IEEE-754 bit patterns worked out
 * on paper, never produced by this repository's encoder): the edge's register maps and codec must turn
 * them into known values. A wrong address, word order, type or scale in a map fails here, even if the
 * simulators made the same mistake.
 */

// Eastron SDM630 "Modbus protocol" input registers, float32, high word first. 3xxxx = address + 1.
const SDM630_DATASHEET: Array<[register: number, words: [number, number], value: number, what: string]> = [
  [30001, [0x4366, 0x0000], 230.0, 'phase 1 line to neutral volts'],
  [30003, [0x4365, 0x8000], 229.5, 'phase 2 line to neutral volts'],
  [30007, [0x4120, 0x0000], 10.0, 'phase 1 current, A'],
  [30013, [0x44b8, 0x0000], 1472.0, 'phase 1 power, W'],
  [30053, [0x4580, 0x0000], 4096.0, 'total system power, W'],
  [30071, [0x4248, 0x0000], 50.0, 'frequency, Hz'],
  [30073, [0x4640, 0xe600], 12345.5, 'total import kWh'],
  [30343, [0x4640, 0xe600], 12345.5, 'total kWh (0x0156)'],
  [30063, [0xbf80, 0x0000], -1.0, 'total system power factor'],
];

/**
 * What the gateway reads from an SDM630 in one poll: function 04 from 0x0034 (30053) for 22 registers,
 * up to and including 30073/30074. Reserved registers read 0.
 */
const SDM630_FRAME = [
  0x4580, 0x0000, // 30053 total system power 4096 W
  0x0000, 0x0000, // 30055 (reserved)
  0x4586, 0x6000, // 30057 total system VA 4300 VA
  0x0000, 0x0000, // 30059 (reserved)
  0x4496, 0x0000, // 30061 total system VAr 1200 VAr
  0x3f75, 0xc28f, // 30063 total system power factor 0.96
  0x0000, 0x0000, // 30065 (reserved)
  0x0000, 0x0000, // 30067 total system phase angle 0°
  0x0000, 0x0000, // 30069 (reserved)
  0x4248, 0x0000, // 30071 frequency 50 Hz
  0x4640, 0xe600, // 30073 total import kWh 12345.5
];

/** water-u32-litres (edge/README.md): function 03 from 40001: litres u32 LOW word first, then flow in 0.01 m³/h. */
const WATER_FRAME = [
  0xe240, 0x0001, // 40001-40002 123,456 L = 0x0001_E240, low word first
  0x007d, //         40003 flow 125 × 0.01 = 1.25 m³/h
];

describe('golden register frames: datasheet words → values', () => {
  it('every SDM630 datasheet float decodes to its value (high word first)', () => {
    for (const [register, words, value, what] of SDM630_DATASHEET) {
      expect(decodeRegister(words, 'float32', 'big'), `${register} ${what}`).toBe(value);
    }
  });

  it('the sdm630 map reads total system power at 30053 and import energy at 30073, in one block', () => {
    const map = REGISTER_MAPS.get('sdm630')!;
    expect(map.table).toBe('input');
    expect(span(map)).toEqual({ start: 30053 - 30001, count: 30075 - 30053 });
    expect(decodeBlock(SDM630_FRAME, 0x0034, map.registers)).toEqual({ metrics: { power_kw: 4.096, energy_kwh: 12345.5 }, invalid: [] });
  });

  it('the water-u32-litres map reads litres low word first and flow in hundredths', () => {
    const map = REGISTER_MAPS.get('water-u32-litres')!;
    expect(map.table).toBe('holding');
    expect(span(map)).toEqual({ start: 0, count: 3 });
    expect(decodeBlock(WATER_FRAME, 0, map.registers)).toEqual({ metrics: { volume_m3: 123.456, flow_m3h: 1.25 }, invalid: [] });
    // The same words high word first would be 3,792,699,393 L: the word order matters.
    expect(decodeRegister(WATER_FRAME, 'u32', 'big')).toBe(0xe2400001);
  });

  it('a NaN float (a meter with no value yet) is left out, not sent', () => {
    const frame = [...SDM630_FRAME];
    frame[0] = 0x7fc0;
    expect(decodeBlock(frame, 0x0034, REGISTER_MAPS.get('sdm630')!.registers)).toEqual({ metrics: { energy_kwh: 12345.5 }, invalid: ['power_kw'] });
  });
});

/**
 * A Modbus TCP meter that answers with hand-written bytes: the MBAP header (transaction id echoed,
 * protocol 0, length, unit id), then function code, byte count and the registers. It records the
 * request bytes the gateway sent, so the request (function, start address, count) is checked too.
 */
async function byteMeter(data: number[]) {
  const requests: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('data', (req) => {
      requests.push(Buffer.from(req));
      const bytes = data.flatMap((w) => [w >> 8, w & 0xff]);
      const pdu = [req[7]!, bytes.length, ...bytes];
      sock.write(Buffer.from([req[0]!, req[1]!, 0x00, 0x00, 0x00, pdu.length + 1, req[6]!, ...pdu]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    stop: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

function pollerFor(options: Record<string, unknown>) {
  const tmp = tempDir();
  const config = parseEdgeConfig({ gateway: { id: 'gw-golden' }, outbox: { path: join(tmp.dir, 'outbox.db') }, devices: [{ id: 'm-1', driver: 'modbus-meter', options }] });
  const devices = buildDeviceTable(config.devices);
  const outbox = Outbox.open(config.outbox.path);
  const metrics = new EdgeMetrics({ backlog: () => outbox.backlog(), hubConnected: () => false, devicesOnline: () => 0 });
  const ingest = new FieldIngest({ devices, outbox, metrics, logger: silent, onRecords: () => {}, onReply: () => {}, now: () => NOW });
  const poller = new ModbusPoller({
    deviceId: 'm-1',
    options: devices.get('m-1')!.options as unknown as ModbusMeterOptions,
    emit: (id, e) => ingest.commit(id, e),
    onAvailability: () => {},
    registry: metrics.registry,
    logger: silent,
    now: () => NOW,
  });
  return {
    poller,
    records: () => outbox.peek(0, 100).map((r) => (expect(validateRecord(r).ok).toBe(true), r)),
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

describe('golden frames over Modbus TCP through the poller and the ingest path', () => {
  it('SDM630: request 04 0034 0016 to unit 7; response bytes → energy_kwh 12345.5, power_kw 4.096', async () => {
    const meter = await byteMeter(SDM630_FRAME);
    cleanups.push(meter.stop);
    const h = pollerFor({ medium: 'power', host: '127.0.0.1', port: meter.port, unitId: 7, map: 'sdm630', timeoutMs: 1000 });
    cleanups.push(h.close);
    expect(await h.poller.pollOnce()).toBe(true);
    // MBAP: protocol 0, 6 bytes follow, unit 7; PDU: function 04, start 0x0034, quantity 0x0016.
    expect([...meter.requests[0]!.subarray(2)]).toEqual([0x00, 0x00, 0x00, 0x06, 0x07, 0x04, 0x00, 0x34, 0x00, 0x16]);
    expect(h.records()).toMatchObject([{ device: 'm-1', kind: 'telemetry', ts: NOW, metrics: { energy_kwh: 12345.5, power_kw: 4.096 } }]);
  });

  it('water meter: request 03 0000 0003; response bytes → volume_m3 123.456, flow_m3h 1.25', async () => {
    const meter = await byteMeter(WATER_FRAME);
    cleanups.push(meter.stop);
    const h = pollerFor({ medium: 'water', host: '127.0.0.1', port: meter.port, map: 'water-u32-litres', timeoutMs: 1000 });
    cleanups.push(h.close);
    expect(await h.poller.pollOnce()).toBe(true);
    expect([...meter.requests[0]!.subarray(2)]).toEqual([0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x03]);
    expect(h.records()).toMatchObject([{ kind: 'telemetry', metrics: { volume_m3: 123.456, flow_m3h: 1.25 } }]);
  });
});
