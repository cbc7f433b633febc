import type { AddressInfo, Server } from 'node:net';
import { ServerTCP } from 'modbus-serial';
import { METER_MODELS, type MeterModel } from './models/index.ts';
import { activity, type Profile } from '../daily.ts';
import { createRng, hashSeed } from '../rng.ts';
import { SimClock } from '../sim-clock.ts';

export interface ModbusMeterServerOptions {
  id: string;
  /**
   * Meter model, i.e. its register layout (src/modbus/models/: `sdm630`, `water-u32-litres`); the same
   * name a gateway config gives the edge as `map`.
   */
  map: string;
  host?: string;
  /** 0 = any free port (tests); real meters use 502. */
  port?: number;
  unitId?: number;
  profile?: Profile;
  /** Draw at the busiest hour, kW or m³/h; default by the model's medium. */
  peak?: number;
  base?: number;
  noise?: number;
  initialTotal?: number;
  speed?: number;
  utcOffset?: number;
  startHour?: number;
  seed?: number;
}

export interface ModbusMeterServer {
  host: string;
  port: number;
  /** Current register contents in engineering units: the cumulative total and the instantaneous draw. */
  state(): { total: number; instant: number; requests: number };
  /** Field events: `leak` adds a constant draw, `fix` removes it, `setTotal` writes the register (rollover, replacement). */
  act(action: 'leak' | 'fix' | 'setTotal', arg?: number): void;
  stop(): Promise<void>;
}

const DEFAULT_PEAK = { power: 120, water: 6, gas: 18 } as const;
const DEFAULT_BASE = { power: 0.18, water: 0.03, gas: 0.02 } as const;

/**
 * A simulated meter behind a real Modbus TCP server (modbus-serial's ServerTCP). Registers are laid
 * out by the meter model's own datasheet table (models/), never by the edge's register maps or codec, so
 * a simulator-to-edge test catches a wrong address, word order or scale on either side. The register
 * integrates the draw over simulated time and is computed when it is read, so every poll sees a
 * consistent total. Unmapped addresses read as 0, like a real meter's
 * reserved registers; a request for another unit id is refused.
 */
export async function startModbusMeterServer(o: ModbusMeterServerOptions): Promise<ModbusMeterServer> {
  const model: MeterModel | undefined = METER_MODELS.get(o.map);
  if (!model) throw new Error(`modbus meter ${o.id}: unknown meter model ${o.map} (known: ${[...METER_MODELS.keys()].join(', ')})`);
  const rng = createRng(hashSeed(o.seed ?? 0, o.id));
  const clock = new SimClock(o.speed ?? 1, o.utcOffset ?? 8, o.startHour);
  const peak = o.peak ?? DEFAULT_PEAK[model.medium];
  const base = o.base ?? DEFAULT_BASE[model.medium];
  const noise = o.noise ?? 0.05;
  const unitId = o.unitId ?? 1;
  let total = o.initialTotal ?? Math.round(rng.float(1_000, 90_000) * 100) / 100;
  let extra = 0;
  let instant = 0;
  let last = clock.now();
  let requests = 0;

  const advance = (): void => {
    const now = clock.now();
    const hours = Math.max(0, now - last) / 3_600_000;
    last = now;
    const next = Math.max(0, peak * (base + (1 - base) * activity(o.profile ?? 'office', clock.hour())) * (1 + rng.gauss() * noise) + extra);
    total += ((instant + next) / 2) * hours;
    instant = next;
  };
  advance();

  const image = (): Map<number, number> => {
    advance();
    return model.image({ total, instant });
  };
  const read = (addr: number, length: number, unit: number): number[] => {
    if (unit !== unitId) throw Object.assign(new Error('no such unit'), { modbusErrorCode: 0x0b });
    requests += 1;
    const words = image();
    return Array.from({ length }, (_, i) => words.get(addr + i) ?? 0);
  };
  const vector = {
    getMultipleInputRegisters: (addr: number, length: number, unit: number) => (model.table === 'input' ? read(addr, length, unit) : new Array<number>(length).fill(0)),
    getMultipleHoldingRegisters: (addr: number, length: number, unit: number) => (model.table === 'holding' ? read(addr, length, unit) : new Array<number>(length).fill(0)),
    getInputRegister: (addr: number, unit: number) => read(addr, 1, unit)[0]!,
    getHoldingRegister: (addr: number, unit: number) => read(addr, 1, unit)[0]!,
  };

  // ServerTCP reads `options.port || 502`, so a numeric 0 would become 502; net.listen accepts the string '0'.
  const port = (o.port ?? 0) === 0 ? ('0' as unknown as number) : o.port;
  const server = new ServerTCP(vector, { host: o.host ?? '127.0.0.1', port, unitID: 255 });
  const net = (server as unknown as { _server: Server })._server;
  await new Promise<void>((resolve, reject) => {
    server.once('initialized', () => resolve());
    server.once('serverError', (err) => reject(err ?? new Error('modbus server failed to start')));
  });
  // Socket errors are a client's problem (a poller that went away); the meter keeps serving.
  server.on('socketError', () => {});
  const addr = net.address() as AddressInfo;

  return {
    host: addr.address,
    port: addr.port,
    state: () => {
      advance();
      return { total, instant, requests };
    },
    act(action, arg) {
      advance();
      if (action === 'leak') extra = arg ?? peak * 0.2;
      else if (action === 'fix') extra = 0;
      else total = arg ?? 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const sock of server.socks.keys()) sock.destroy();
        server.close(() => resolve());
      }),
  };
}
