import { pino, type Logger } from 'pino';
import { DEVICE_ID } from '@warden/contract';
import type { DeviceSpec } from './device.ts';
import { parseDuration } from './duration.ts';
import { resolveOptions } from './options.ts';
import { deviceType, DEVICE_TYPE_NAMES } from './registry.ts';
import { DeviceRuntime, type SimDevice } from './runtime.ts';
import { validateScenario, type Scenario, type TimelineEntry } from './scenario.ts';
import { ConfigError } from './schema-errors.ts';
import { SimClock } from './sim-clock.ts';
import { startScenarioCameras, type RunningCameras } from './onvif/scenario-cameras.ts';

export interface StartOptions {
  /** The gateway's field broker, e.g. mqtt://127.0.0.1:1884. */
  url: string;
  /** Defaults to the device id when a password is given, as FIELD-PROTOCOLS.md asks. */
  username?: string;
  password?: string;
  /** Behaviour speed multiplier (default 1); ignored when `clock` is given. */
  speed?: number;
  /** Share one simulated clock between devices (runScenario does). */
  clock?: SimClock;
  logger?: Logger;
  /** Seed for the device's random stream, combined with its id (default 0). */
  seed?: number;
  /** Wait for the first connection before resolving (default true). */
  wait?: boolean;
}

let sharedLogger: Logger | undefined;
function defaultLogger(): Logger {
  sharedLogger ??= pino({ name: 'warden-sim', level: process.env.WARDEN_LOG_LEVEL || process.env.LOG_LEVEL || 'info' });
  return sharedLogger;
}

function createDevice(spec: DeviceSpec, o: StartOptions): DeviceRuntime {
  const where = `device ${spec.id}`;
  if (!DEVICE_ID.test(spec.id)) throw new ConfigError(where, [`/id: ${JSON.stringify(spec.id)} is not a valid device id`]);
  const def = deviceType(spec.type);
  if (!def) throw new ConfigError(where, [`/type: unknown device type ${JSON.stringify(spec.type)}; known: ${DEVICE_TYPE_NAMES.join(', ')}`]);
  const opts = resolveOptions(def, spec.options);
  if (!opts.ok) throw new ConfigError(where, opts.problems);
  return new DeviceRuntime(def, spec, opts.value, {
    url: o.url,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    clock: o.clock ?? new SimClock(o.speed ?? 1),
    logger: o.logger ?? defaultLogger(),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  });
}

/** Starts one simulated device; by default resolves once it is connected and has announced itself online. */
export async function startDevice(spec: DeviceSpec, o: StartOptions): Promise<SimDevice> {
  const device = createDevice(spec, o);
  const ready = device.start();
  if (o.wait !== false) {
    try {
      await ready;
    } catch (err) {
      await device.stop();
      throw err;
    }
  }
  return device;
}

export interface RunOptions {
  /** Overrides the scenario's speed. */
  speed?: number;
  logger?: Logger;
  /** Called after each timeline entry has run, with the error if it failed. */
  onAction?(entry: TimelineEntry, error?: Error): void;
  /** Devices connecting at once (default 50): a whole campus in one burst would look like a SYN flood. */
  connectConcurrency?: number;
  /** Aborts the wait for connections (SIGINT while a gateway is still down). */
  signal?: AbortSignal;
  /** For ${VAR} references in urls and secrets (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface RunningScenario {
  devices: Map<string, SimDevice>;
  /** Resolves when every timeline entry has run (at once for an empty timeline). */
  done: Promise<void>;
  clock: SimClock;
  stop(): Promise<void>;
}

const sleep = (ms: number): { promise: Promise<void>; cancel(): void } => {
  let t: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((r) => (t = setTimeout(r, ms)));
  return { promise, cancel: () => clearTimeout(t) };
};

/**
 * Starts every device of a scenario, waits until all are connected (a gateway that is still starting
 * is retried, and reported every 10 s), then plays the timeline. The timeline and all behaviour run
 * at the scenario's speed.
 */
export async function runScenario(input: Scenario, opts: RunOptions = {}): Promise<RunningScenario> {
  const scenario = validateScenario(input, input.name ?? 'scenario', opts.env);
  const log = (opts.logger ?? defaultLogger()).child({ scenario: scenario.name ?? 'scenario' });
  const clock = new SimClock(opts.speed ?? scenario.speed ?? 1, scenario.utcOffset ?? 8, scenario.startHour);
  const devices = new Map<string, DeviceRuntime>();
  for (const g of scenario.gateways) {
    for (const d of g.devices) {
      const secret = g.secrets?.[d.id];
      devices.set(
        d.id,
        createDevice(d, {
          url: g.url,
          ...(secret !== undefined ? { password: secret } : {}),
          clock,
          logger: log,
          ...(scenario.seed !== undefined ? { seed: scenario.seed } : {}),
        }),
      );
    }
  }
  const all = [...devices.values()];
  // Virtual cameras serve rather than connect: started first, stopped with the rest.
  const cameras: RunningCameras | null = scenario.cameras ? await startScenarioCameras(scenario.cameras) : null;
  if (cameras) log.info({ cameras: cameras.devices.length, port: cameras.sim.port, rtspPort: cameras.sim.rtspPort }, 'virtual ONVIF cameras serving');
  const stopAll = async (): Promise<void> => void (await Promise.all([...all.map((d) => d.stop()), cameras?.stop()]));

  // Start in waves: each slot frees when its device connects or after 2 s, so one dead gateway does not hold up the others.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < all.length && !opts.signal?.aborted) {
      const ready = all[next++]!.start();
      const pause = sleep(2000);
      await Promise.race([ready.catch(() => undefined), pause.promise]);
      pause.cancel();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.connectConcurrency ?? 50) }, worker));

  const waiting = new Set(all);
  for (const d of all) void d.ready().then(() => waiting.delete(d), () => waiting.delete(d));
  const progress = setInterval(() => {
    if (waiting.size > 0) log.warn({ waiting: waiting.size, devices: [...waiting].slice(0, 5).map((d) => d.id) }, 'devices not connected yet; retrying');
  }, 10_000);
  const aborted = new Promise<'aborted'>((resolve) => {
    if (opts.signal?.aborted) resolve('aborted');
    opts.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const settled = await Promise.race([Promise.allSettled(all.map((d) => d.ready())), aborted]);
  clearInterval(progress);
  if (settled === 'aborted') {
    await stopAll();
    throw new Error('scenario aborted while devices were connecting');
  }
  const failed = settled.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failed.length > 0) {
    await stopAll();
    throw new Error(`${failed.length} device(s) could not connect:\n  ${failed.slice(0, 20).join('\n  ')}`);
  }

  const timers = new Set<NodeJS.Timeout>();
  /** Entries not yet run; stop() settles them so `done` never hangs. */
  const unsettled = new Set<() => void>();
  const entries = [...(scenario.timeline ?? [])].sort((a, b) => parseDuration(a.at)! - parseDuration(b.at)!);
  const done = Promise.all(
    entries.map(
      (entry) =>
        new Promise<void>((settle) => {
          const resolve = (): void => {
            unsettled.delete(resolve);
            settle();
          };
          unsettled.add(resolve);
          const t = setTimeout(() => {
            timers.delete(t);
            const device: SimDevice = devices.get(entry.device) ?? cameras!.devices.find((c) => c.id === entry.device)!;
            device.act(entry.do, entry.arg).then(
              () => {
                log.info({ at: entry.at, device: entry.device, do: entry.do, arg: entry.arg }, 'timeline');
                opts.onAction?.(entry);
                resolve();
              },
              (err: Error) => {
                log.warn({ at: entry.at, device: entry.device, do: entry.do, err: err.message }, 'timeline action failed');
                opts.onAction?.(entry, err);
                resolve();
              },
            );
          }, clock.realMs(parseDuration(entry.at)!));
          timers.add(t);
        }),
    ),
  ).then(() => undefined);

  return {
    devices: new Map<string, SimDevice>([...devices, ...(cameras?.devices ?? []).map((c) => [c.id, c] as const)]),
    done,
    clock,
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const settle of [...unsettled]) settle();
      await stopAll();
    },
  };
}
