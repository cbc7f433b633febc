import { compile, type DeviceInfo } from '@warden/contract';
import type { DeviceConfig } from './config.ts';
import { DRIVERS } from './drivers/index.ts';
import { topicFor, type AnyDriver, type ReplyDecoder, type Uplink } from './driver.ts';

type Check = ReturnType<typeof compile>;

export type TopicHandler = { type: 'uplink'; uplink: Uplink<never>; check: Check } | { type: 'reply'; decoder: ReplyDecoder; check: Check };

/** A configured device bound to its driver, with the state its driver keeps and its native topics resolved. */
export interface DeviceRuntime {
  id: string;
  config: DeviceConfig;
  driver: AnyDriver;
  options: Record<string, unknown>;
  state: unknown;
  info: DeviceInfo;
  /** Full native topic -> what handles it. */
  topics: ReadonlyMap<string, TopicHandler>;
}

// Compiled once per driver topic, shared by every device of that driver.
const checks = new Map<object, Check>();
function checkFor(schema: object): Check {
  let c = checks.get(schema);
  if (!c) checks.set(schema, (c = compile(schema as Parameters<typeof compile>[0])));
  return c;
}

export function deviceInfo(d: DeviceConfig, driver: AnyDriver): DeviceInfo {
  const medium = d.options.medium;
  return {
    id: d.id,
    // Cast: the contract's DeviceKindSchema is a union built from an array map, whose Static type
    // collapses to never; driver.kind is a checked DeviceKind.
    kind: driver.kind,
    driver: driver.name,
    ...(d.name === undefined ? {} : { name: d.name }),
    ...(d.building === undefined ? {} : { building: d.building }),
    ...(d.zone === undefined ? {} : { zone: d.zone }),
    ...(d.location === undefined ? {} : { location: d.location }),
    ...(medium === 'power' || medium === 'water' || medium === 'gas' ? { medium } : {}),
  };
}

/** Builds the runtime table from validated config (the config loader has already checked driver names and options). */
export function buildDeviceTable(configs: readonly DeviceConfig[]): Map<string, DeviceRuntime> {
  const table = new Map<string, DeviceRuntime>();
  for (const config of configs) {
    const driver = DRIVERS.get(config.driver);
    if (!driver) throw new Error(`device ${config.id}: unknown driver ${config.driver}`);
    const topics = new Map<string, TopicHandler>();
    for (const [pattern, uplink] of Object.entries(driver.uplinks)) {
      topics.set(topicFor(pattern, config.id), { type: 'uplink', uplink: uplink as Uplink<never>, check: checkFor(uplink.schema) });
    }
    for (const [pattern, decoder] of Object.entries(driver.replies)) {
      topics.set(topicFor(pattern, config.id), { type: 'reply', decoder, check: checkFor(decoder.schema) });
    }
    table.set(config.id, {
      id: config.id,
      config,
      driver,
      options: config.options,
      state: driver.initialState(),
      info: deviceInfo(config, driver),
      topics,
    });
  }
  return table;
}
