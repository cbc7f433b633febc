import { readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { parseDocument } from 'yaml';
import { DEVICE_ID, isValidGatewayId } from '@warden/contract';
import { COMMON_ACTIONS } from './device.ts';
import { parseDuration } from './duration.ts';
import { resolveOptions } from './options.ts';
import { DEVICE_TYPE_NAMES, deviceType } from './registry.ts';
import { ConfigError, schemaErrors } from './schema-errors.ts';
import { CAMERA_ACTIONS, CAMERA_TYPE, ScenarioCamerasSchema } from './onvif/scenario-cameras.ts';

/** The form of a duration string is checked with parseDuration, which gives a clearer message than a pattern. */
const Duration = Type.Union([Type.Number({ minimum: 0 }), Type.String({ minLength: 1 })], {
  description: "seconds, or a duration such as '500ms', '5s', '1m30s', '2h'",
});

export const ScenarioDeviceSchema = Type.Object(
  {
    id: Type.String({ pattern: DEVICE_ID.source, description: 'device id: MQTT client id and second topic segment' }),
    type: Type.String({ minLength: 1, description: `device type = edge driver: ${DEVICE_TYPE_NAMES.join(', ')}` }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    building: Type.Optional(Type.String({ maxLength: 64 })),
    zone: Type.Optional(Type.String({ maxLength: 64 })),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'device-type options (see the README)' })),
  },
  { additionalProperties: false },
);

export const ScenarioGatewaySchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, description: 'gateway id' }),
    url: Type.String({
      minLength: 1,
      description: "the gateway's field broker (mqtt://, mqtts://, tcp://, tls://, ws://, wss://); ${VAR} and ${VAR:-default} are taken from the environment",
    }),
    secrets: Type.Optional(
      Type.Record(Type.String(), Type.String({ minLength: 1 }), {
        description: 'device id -> field secret, when the gateway requires field credentials (username = device id)',
      }),
    ),
    devices: Type.Array(ScenarioDeviceSchema),
  },
  { additionalProperties: false },
);

export const TimelineEntrySchema = Type.Object(
  {
    at: Duration,
    device: Type.String({ minLength: 1 }),
    do: Type.String({ minLength: 1, description: 'an action of the device type, or dropOff / comeBack' }),
    arg: Type.Optional(Type.Unknown({ description: 'argument of the action' })),
  },
  { additionalProperties: false },
);

export const ScenarioSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 100 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    speed: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000, description: 'behaviour and timeline speed multiplier (default 1)' })),
    utcOffset: Type.Optional(Type.Number({ minimum: -12, maximum: 14, description: 'campus offset from UTC in hours (default 8, China)' })),
    startHour: Type.Optional(
      Type.Number({ minimum: 0, exclusiveMaximum: 24, description: 'simulated campus hour at start, e.g. 2 for a night scenario (default: the real hour)' }),
    ),
    seed: Type.Optional(Type.Integer({ description: 'seed for cards, intervals and readings (default 0)' })),
    duration: Type.Optional(Duration),
    gateways: Type.Array(ScenarioGatewaySchema, { minItems: 1 }),
    /** Virtual ONVIF cameras (issue 10), driven by the timeline like the devices. */
    cameras: Type.Optional(ScenarioCamerasSchema),
    timeline: Type.Optional(Type.Array(TimelineEntrySchema)),
  },
  { additionalProperties: false },
);

export type Scenario = Static<typeof ScenarioSchema>;
export type ScenarioGateway = Static<typeof ScenarioGatewaySchema>;
export type ScenarioDevice = Static<typeof ScenarioDeviceSchema>;
export type TimelineEntry = Static<typeof TimelineEntrySchema>;

const URL_SCHEME = /^(mqtts?|tcp|tls|wss?):\/\/[^/\s]+/;

/** `${NAME}` or `${NAME:-default}`, as in shell and docker compose. */
const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function expandEnv(text: string, env: NodeJS.ProcessEnv, path: string, problems: string[]): string {
  return text.replace(ENV_REF, (_, name: string, def: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    problems.push(`${path}: environment variable ${name} is not set and has no default`);
    return '';
  });
}

/**
 * Checks a scenario the way the runner will use it: the shape, then what the shape cannot say (unique
 * ids, known device types, each device's options against its type, timeline devices and actions), and
 * reports every problem with its path. Environment references in urls and secrets are expanded.
 */
export function validateScenario(value: unknown, source = 'scenario', env: NodeJS.ProcessEnv = process.env): Scenario {
  const shape = schemaErrors(ScenarioSchema, value);
  if (shape.length > 0) throw new ConfigError(source, shape);
  const scenario = Value.Clone(value) as Scenario;
  const problems: string[] = [];
  const devices = new Map<string, { type: string; path: string }>();
  const gatewayIds = new Set<string>();

  scenario.gateways.forEach((g, gi) => {
    const gp = `/gateways/${gi}`;
    if (!isValidGatewayId(g.id)) problems.push(`${gp}/id: ${JSON.stringify(g.id)} is not a valid gateway id (a-z, 0-9, - and _)`);
    if (gatewayIds.has(g.id)) problems.push(`${gp}/id: gateway ${g.id} appears twice`);
    gatewayIds.add(g.id);
    g.url = expandEnv(g.url, env, `${gp}/url`, problems);
    if (!URL_SCHEME.test(g.url)) problems.push(`${gp}/url: ${JSON.stringify(g.url)} is not an MQTT URL (mqtt://host:port, mqtts://, tcp://, tls://, ws://, wss://)`);
    const ids = new Set(g.devices.map((d) => d.id));
    for (const [id, secret] of Object.entries(g.secrets ?? {})) {
      if (!ids.has(id)) problems.push(`${gp}/secrets/${id}: no device ${id} on this gateway`);
      g.secrets![id] = expandEnv(secret, env, `${gp}/secrets/${id}`, problems);
    }
    g.devices.forEach((d, di) => {
      const dp = `${gp}/devices/${di}`;
      const seen = devices.get(d.id);
      if (seen) problems.push(`${dp}/id: device ${d.id} is already defined at ${seen.path}`);
      else devices.set(d.id, { type: d.type, path: dp });
      const def = deviceType(d.type);
      if (!def) {
        problems.push(`${dp}/type: unknown device type ${JSON.stringify(d.type)}; known: ${DEVICE_TYPE_NAMES.join(', ')}`);
        return;
      }
      const opts = resolveOptions(def, d.options, `${dp}/options`);
      if (!opts.ok) problems.push(...opts.problems);
    });
  });

  (scenario.cameras?.list ?? []).forEach((c, ci) => {
    const cp = `/cameras/list/${ci}`;
    const seen = devices.get(c.id);
    if (seen) problems.push(`${cp}/id: ${c.id} is already defined at ${seen.path}`);
    else devices.set(c.id, { type: CAMERA_TYPE, path: cp });
  });

  if (scenario.duration !== undefined && parseDuration(scenario.duration) === undefined) {
    problems.push(`/duration: not a duration: ${JSON.stringify(scenario.duration)} (e.g. '90s', '1m30s', '2h')`);
  }
  (scenario.timeline ?? []).forEach((t, ti) => {
    const tp = `/timeline/${ti}`;
    if (parseDuration(t.at) === undefined) problems.push(`${tp}/at: not a duration: ${JSON.stringify(t.at)} (e.g. '500ms', '5s', '1m30s')`);
    const dev = devices.get(t.device);
    if (!dev) return void problems.push(`${tp}/device: no device ${JSON.stringify(t.device)} in this scenario`);
    if (dev.type === CAMERA_TYPE) {
      if (!Object.hasOwn(CAMERA_ACTIONS, t.do)) problems.push(`${tp}/do: a camera has no action ${JSON.stringify(t.do)}; known: ${Object.keys(CAMERA_ACTIONS).join(', ')}`);
      return;
    }
    const def = deviceType(dev.type);
    if (def && !Object.hasOwn(def.actions, t.do) && !Object.hasOwn(COMMON_ACTIONS, t.do)) {
      const known = [...Object.keys(def.actions), ...Object.keys(COMMON_ACTIONS)].join(', ');
      problems.push(`${tp}/do: ${dev.type} has no action ${JSON.stringify(t.do)}; known: ${known}`);
    }
  });

  if (problems.length > 0) throw new ConfigError(source, problems);
  return scenario;
}

/** Parses scenario YAML; YAML syntax errors are reported with their line and column. */
export function parseScenario(text: string, source = 'scenario', env: NodeJS.ProcessEnv = process.env): Scenario {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(source, doc.errors.map((e) => e.message.split('\n')[0]!));
  return validateScenario(doc.toJS(), source, env);
}

export function loadScenario(file: string, opts: { env?: NodeJS.ProcessEnv } = {}): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read scenario ${file}: ${(err as Error).message}`);
  }
  return parseScenario(text, file, opts.env ?? process.env);
}
