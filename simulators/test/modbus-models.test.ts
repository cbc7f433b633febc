import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ModbusSerial from 'modbus-serial';
import { METER_MODELS } from '../src/modbus/models/index.ts';
import { float32HighFirst, u16, u32LowFirst } from '../src/modbus/words.ts';
import { startModbusMeterServer, type ModbusMeterServer } from '../src/index.ts';

// modbus-serial is CommonJS: its default import is the client class itself.
const ModbusRTU = ModbusSerial as unknown as typeof ModbusSerial.default;

/**
 * Golden register words for the simulated meters, written by hand from the datasheets (IEEE-754 bit
 * patterns worked out separately, e.g. 230.0 = 0x4366_0000), so the simulator's encoding is checked
 * against the datasheet and not against any other code of this repository.
 */
const words = (image: Map<number, number>, address: number, n = 2) => Array.from({ length: n }, (_, i) => image.get(address + i));

describe('word encoders', () => {
  it('float32 high word first, u32 low word first, u16', () => {
    expect(float32HighFirst(230.0)).toEqual([0x4366, 0x0000]);
    expect(float32HighFirst(12345.5)).toEqual([0x4640, 0xe600]);
    expect(float32HighFirst(-2)).toEqual([0xc000, 0x0000]);
    expect(u32LowFirst(123_456)).toEqual([0xe240, 0x0001]);
    expect(u32LowFirst(-5)).toEqual([0, 0]);
    expect(u16(125)).toEqual([0x007d]);
    expect(u16(70_000)).toEqual([0xffff]);
  });
});

describe('SDM630 model (datasheet: input registers, float32, high word first, 3xxxx = address + 1)', () => {
  const sdm = METER_MODELS.get('sdm630')!;
  const image = sdm.image({ total: 12345.5, instant: 4.096 });

  it('answers on the input table', () => {
    expect(sdm.table).toBe('input');
    expect(sdm.medium).toBe('power');
  });

  it('puts each parameter at its datasheet register', () => {
    expect(words(image, 0x0000)).toEqual([0x4366, 0x0000]); // 30001 phase 1 L-N volts = 230.0
    expect(words(image, 0x0002)).toEqual([0x4365, 0x8000]); // 30003 phase 2 = 229.5
    expect(words(image, 0x0004)).toEqual([0x4367, 0x4000]); // 30005 phase 3 = 231.25
    expect(words(image, 0x000c)).toEqual([0x44b8, 0x51ec]); // 30013 phase 1 power = 36 % of 4096 W = 1474.56 W
    expect(words(image, 0x0034)).toEqual([0x4580, 0x0000]); // 30053 total system power = 4096 W
    expect(words(image, 0x0046)).toEqual([0x4248, 0x0000]); // 30071 frequency = 50 Hz
    expect(words(image, 0x0048)).toEqual([0x4640, 0xe600]); // 30073 total import kWh = 12345.5
    expect(words(image, 0x004a)).toEqual([0x0000, 0x0000]); // 30075 total export kWh = 0
    expect(words(image, 0x0156)).toEqual([0x4640, 0xe600]); // 30343 total kWh = import + export
    expect(words(image, 0x003e)).toEqual([0x3f75, 0xc28f]); // 30063 total system power factor = 0.96
  });

  it('fills the neighbours of the energy registers, so a reader one pair off reads a wrong number, not a zero', () => {
    for (const address of [0x0032, 0x0036, 0x0046]) expect(words(image, address)).not.toEqual([0, 0]);
  });
});

describe('water meter model (edge/README.md layout: holding, litres u32 low word first at 40001, flow 0.01 m³/h at 40003)', () => {
  const water = METER_MODELS.get('water-u32-litres')!;
  it('encodes volume in litres and flow in hundredths', () => {
    expect(water.table).toBe('holding');
    const image = water.image({ total: 123.456, instant: 1.25 });
    expect(words(image, 0, 3)).toEqual([0xe240, 0x0001, 0x007d]);
  });
});

describe('the simulated SDM630 over real Modbus TCP, read by a plain Modbus client', () => {
  let meter: ModbusMeterServer;
  const client = new ModbusRTU();
  beforeAll(async () => {
    meter = await startModbusMeterServer({ id: 'pm-golden', map: 'sdm630', unitId: 3, initialTotal: 5000, speed: 1, startHour: 3, peak: 0.000001, base: 0, noise: 0 });
    await client.connectTCP('127.0.0.1', { port: meter.port });
    client.setID(3);
    client.setTimeout(1000);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => client.close(() => resolve()));
    await meter.stop();
  });

  it('function 04 at 30001 gives 230.0 V, at 30073 the import register', async () => {
    expect((await client.readInputRegisters(0x0000, 2)).data).toEqual([0x4366, 0x0000]);
    const kwh = (await client.readInputRegisters(0x0048, 2)).data;
    const view = new DataView(new ArrayBuffer(4));
    view.setUint16(0, kwh[0]!);
    view.setUint16(2, kwh[1]!);
    expect(view.getFloat32(0)).toBeCloseTo(5000, 2);
  });

  it('holding registers of a power meter read as 0 (it answers on the input table only)', async () => {
    expect((await client.readHoldingRegisters(0x0000, 2)).data).toEqual([0, 0]);
  });

  it('refuses an unknown meter model by name', async () => {
    await expect(startModbusMeterServer({ id: 'x', map: 'nope' })).rejects.toThrow(/unknown meter model nope \(known: sdm630, water-u32-litres\)/);
  });
});
