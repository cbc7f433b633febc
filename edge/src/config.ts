import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Settings } from 'typebox/system';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { DEVICE_ID, schemaErrors as contractSchemaErrors, type SchemaError } from '@warden/contract';
import { DRIVERS, DRIVER_NAMES } from './drivers/index.ts';
import { TRANSPORTS } from './transports/index.ts';
import { FailsafeSection, checkFailsafe } from './failsafe/config.ts';
import { FaceSection } from './face/config.ts';
import { CamerasSection } from './camera/proposals.ts';

/*
 * One schema per section (like Frigate): every field has a description, bounds and, where a sensible
 * one exists, a default; unknown keys are errors. The EdgeConfig type is derived from the schemas.
 * `hint` is our own keyword: the message shown when a string does not match its pattern.
 */

const GatewaySection = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
      hint: 'must be 1-64 of a-z, 0-9, "-", "_", starting with a letter or digit',
      description: 'gateway id; the hub knows the gateway (and its password) by it',
    }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'human-readable name' })),
  },
  { additionalProperties: false, description: 'this gateway' },
);

const HubSection = Type.Object(
  {
    url: Type.String({
      pattern: '^(mqtts?|wss?|tcp|tls)://[^\\s]+$',
      hint: 'must be an MQTT URL such as mqtt://hub.example:1883 (mqtt, mqtts, ws, wss)',
      default: 'mqtt://127.0.0.1:1883',
      description: 'MQTT URL of the hub',
    }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'MQTT username (default: the gateway id)' })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'MQTT password; or passwordFile, or env WARDEN_GATEWAY_PASSWORD' })),
    passwordFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the MQTT password (trailing newline ignored); relative to the config file' })),
    keepaliveSeconds: Type.Integer({ minimum: 5, maximum: 3600, default: 15, description: 'MQTT keepalive; a dead link is noticed after 1.5x this' }),
    reconnectMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 1000, description: 'delay between reconnect attempts' }),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(Type.String({ minLength: 1, description: "PEM CA file the hub's certificate must chain to (default: the system CAs); relative to the config file" })),
          cert: Type.Optional(Type.String({ minLength: 1, description: "this gateway's client certificate (mutual TLS; CN = the gateway id), PEM; relative to the config file" })),
          key: Type.Optional(Type.String({ minLength: 1, description: 'the client certificate\'s private key, PEM; relative to the config file' })),
          servername: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: "the name the hub's certificate must carry (default: the URL's host)" })),
        },
        { additionalProperties: false, description: 'TLS to the hub (url mqtts:// or wss://): the hub certificate is always verified (docs/TLS.md)' },
      ),
    ),
  },
  { additionalProperties: false, default: {}, description: 'connection to the hub' },
);

const FieldSection = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address the embedded field broker listens on' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 1884, description: 'field broker TCP port (0 = any free port, logged)' }),
    requireAuth: Type.Boolean({
      default: true,
      description: 'devices must log in with username = device id, password = device secret (devices[].secret); turn off only on a closed loopback test bench',
    }),
    allowUnauthenticated: Type.Boolean({
      default: false,
      description:
        'UNSAFE: lets the field broker listen on a non-loopback address with requireAuth false, so anyone on that network can act as any device; without it such a gateway refuses to start',
    }),
    tls: Type.Optional(
      Type.Object(
        {
          cert: Type.String({ minLength: 1, description: 'PEM certificate (chain) file of the field broker; relative to the config file' }),
          key: Type.String({ minLength: 1, description: 'PEM private key file; relative to the config file' }),
          ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA file: devices must then present a client certificate signed by it (mutual TLS)' })),
        },
        { additionalProperties: false, description: 'serve the field broker over TLS (MQTTS) instead of plain TCP' },
      ),
    ),
    maxPacketBytes: Type.Integer({ minimum: 1024, maximum: 268_435_455, default: 262_144, description: 'larger MQTT packets drop the connection' }),
  },
  { additionalProperties: false, default: {}, description: 'embedded MQTT broker the field devices connect to' },
);

const OutboxSection = Type.Object(
  {
    path: Type.Optional(Type.String({ minLength: 1, description: 'SQLite file (default data/<gateway id>-outbox.db); relative to the config file' })),
    batchSize: Type.Integer({ minimum: 1, maximum: 1000, default: 200, description: 'records per uplink batch at most' }),
    maxInFlightBatches: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'batches sent but not yet acknowledged by the hub, at most' }),
    retryMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000, description: 'resend from the oldest unacknowledged record when no ack arrives in this time' }),
    maxRecords: Type.Integer({
      minimum: 0,
      maximum: 1_000_000_000,
      default: 1_000_000,
      description: 'records kept at most (0 = no cap); beyond it the oldest telemetry, then the oldest routine events are shed and counted; safety events never',
    }),
    maxBytes: Type.Integer({
      minimum: 0,
      maximum: 1_099_511_627_776,
      default: 268_435_456,
      description: 'record JSON kept at most, in bytes (0 = no cap); shedding as for maxRecords',
    }),
    synchronous: Type.Union([Type.Literal('normal'), Type.Literal('full')], {
      default: 'normal',
      description: 'SQLite synchronous mode: normal survives process crashes, full also survives power loss (one fsync per commit)',
    }),
  },
  { additionalProperties: false, default: {}, description: 'durable queue of records not yet stored by the hub' },
);

const MetricsSection = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'serve Prometheus metrics over HTTP at /metrics' }),
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'metrics HTTP address' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'metrics HTTP port (0 = any free port, logged)' }),
    statusIntervalSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 10, description: 'status heartbeat to the hub (backlog, devices online, counters)' }),
  },
  { additionalProperties: false, default: {}, description: 'observability' },
);

const CommandsSection = Type.Object(
  {
    timeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000, description: 'a command without a device reply in this time fails with error "timeout"' }),
  },
  { additionalProperties: false, default: {}, description: 'commands from the hub to devices' },
);

const Label = (max: number, description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: max, description }));

const DeviceEntry = Type.Object(
  {
    id: Type.String({
      pattern: DEVICE_ID.source,
      hint: 'must be 1-128 of a-z, 0-9, ".", "-", "_", starting with a letter or digit',
      description: 'device id; also its MQTT client id and the second segment of its topics',
    }),
    driver: Type.String({ minLength: 1, description: `device type: ${DRIVER_NAMES.join(', ')}` }),
    name: Label(200, 'human-readable name'),
    building: Label(64, 'building id'),
    zone: Label(64, 'zone within the building'),
    location: Label(200, 'where it is'),
    secret: Type.Optional(Type.String({ minLength: 8, maxLength: 256, description: "device's field-broker password (username = device id); required for devices that log in while field.requireAuth is on (the default)" })),
    options: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: 'driver-specific options' }),
  },
  { additionalProperties: false },
);

export const EdgeConfigSchema = Type.Object(
  {
    gateway: GatewaySection,
    hub: HubSection,
    field: FieldSection,
    outbox: OutboxSection,
    metrics: MetricsSection,
    commands: CommandsSection,
    failsafe: FailsafeSection,
    face: FaceSection,
    cameras: CamerasSection,
    devices: Type.Array(DeviceEntry, { maxItems: 5000, default: [], description: 'field devices behind this gateway' }),
  },
  { additionalProperties: false },
);

type RawConfig = Static<typeof EdgeConfigSchema>;
export type DeviceConfig = Static<typeof DeviceEntry>;

/** The validated configuration with defaults applied, paths absolute and the hub password resolved. */
export type EdgeConfig = Readonly<
  Omit<RawConfig, 'hub' | 'outbox'> & {
    hub: Omit<RawConfig['hub'], 'passwordFile' | 'username'> & { username: string; password?: string | undefined };
    outbox: RawConfig['outbox'] & { path: string };
  }
>;

export class EdgeConfigError extends Error {
  constructor(
    readonly source: string,
    readonly errors: readonly string[],
  ) {
    super(`invalid edge config ${source}:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'EdgeConfigError';
  }
}

const checker = Compile(EdgeConfigSchema);
const optionCheckers = new Map([...DRIVERS].map(([name, d]) => [name, Compile(d.options)]));

/** Schema errors as `path: message` in the contract's config style (unknown keys, value lists, pattern hints). */
const schemaErrors = (schema: TSchema, errors: Iterable<SchemaError>, value: unknown, prefix = ''): string[] =>
  contractSchemaErrors(schema, value, { style: 'config', base: prefix, errors });

/**
 * TypeBox buffers at most `maxErrors` (default 8, a DoS guard for untrusted input) per check. A config
 * file is trusted and we want every mistake listed, so the limit is raised for this call only; the
 * setting is process-wide and restored at once, and nothing else can run in between (it is synchronous).
 */
function allErrors<T>(fn: () => T): T {
  const saved = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: 1000 });
  try {
    return fn();
  } finally {
    Settings.Set({ maxErrors: saved });
  }
}

/** 127.0.0.0/8, ::1 and localhost: only processes on this machine can reach such a listener. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

function readSecretFile(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

/**
 * Validates a parsed config object, applies defaults and resolves relative paths against `baseDir`
 * (the config file's folder). Throws EdgeConfigError listing every problem with its path.
 */
export function parseEdgeConfig(
  obj: unknown,
  source = '(inline)',
  opts: { baseDir?: string; env?: NodeJS.ProcessEnv } = {},
): EdgeConfig {
  const baseDir = opts.baseDir ?? process.cwd();
  const env = opts.env ?? process.env;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new EdgeConfigError(source, ['(root): must be a mapping with gateway, hub, field, outbox, metrics, commands, devices']);
  }
  const raw = Value.Default(EdgeConfigSchema, structuredClone(obj)) as RawConfig;
  const errors = schemaErrors(EdgeConfigSchema, allErrors(() => checker.Errors(raw)), raw);

  // Cross-field and driver checks; they run even when the schema failed, so one pass lists everything.
  const devices = Array.isArray(raw.devices) ? raw.devices : [];
  const seen = new Map<string, number>();
  devices.forEach((d, i) => {
    if (typeof d !== 'object' || d === null) return;
    if (typeof d.id === 'string') {
      const first = seen.get(d.id);
      if (first !== undefined) errors.push(`devices/${i}/id: duplicate device id "${d.id}" (also devices/${first})`);
      else seen.set(d.id, i);
    }
    if (typeof d.driver === 'string') {
      const driver = DRIVERS.get(d.driver);
      if (!driver) {
        errors.push(`devices/${i}/driver: unknown driver "${d.driver}" (known: ${DRIVER_NAMES.join(', ')})`);
      } else if (typeof d.options === 'object' && d.options !== null && !Array.isArray(d.options)) {
        d.options = Value.Default(driver.options, d.options) as Record<string, unknown>;
        const options = d.options;
        errors.push(...schemaErrors(driver.options, allErrors(() => optionCheckers.get(d.driver)!.Errors(options)), options, `/devices/${i}/options`));
      }
    }
    // Only devices that log in to the gateway (field MQTT) have a field secret; polled devices do not.
    const logsIn = TRANSPORTS.get(DRIVERS.get(d.driver)?.transport ?? '')?.deviceLogin ?? true;
    if (raw.field?.requireAuth === true && d.secret === undefined && logsIn) {
      errors.push(`devices/${i}/secret: required because field.requireAuth is true`);
    }
  });

  const field = (raw.field ?? {}) as RawConfig['field'];
  if (field.requireAuth === false && field.allowUnauthenticated !== true && typeof field.host === 'string' && !isLoopback(field.host)) {
    errors.push(
      `field: requireAuth is false but the field broker listens on ${field.host}, a non-loopback address: anyone on that network could log in as any device. ` +
        'Give every device a secret and keep requireAuth on, or set field.allowUnauthenticated: true to accept that risk explicitly',
    );
  }

  errors.push(...checkFailsafe(raw.failsafe, devices.map((d) => ({ id: d?.id, kind: DRIVERS.get(d?.driver)?.kind }))));

  const hub = (raw.hub ?? {}) as RawConfig['hub'];
  if (hub.password !== undefined && hub.passwordFile !== undefined) errors.push('hub: give password or passwordFile, not both');
  let password = hub.password;
  // a passwordFile of the wrong type is already a schema error (found by fuzzing: it threw a TypeError here)
  if (typeof hub.passwordFile === 'string' && hub.password === undefined) {
    const file = isAbsolute(hub.passwordFile) ? hub.passwordFile : resolve(baseDir, hub.passwordFile);
    try {
      password = readSecretFile(file);
      if (!password) errors.push(`hub/passwordFile: ${file} is empty`);
    } catch (err) {
      errors.push(`hub/passwordFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  password ??= env.WARDEN_GATEWAY_PASSWORD || undefined;
  if (hub.tls && typeof hub.tls === 'object') {
    if ((hub.tls.cert === undefined) !== (hub.tls.key === undefined)) errors.push('hub/tls: give both cert and key (mutual TLS), or neither');
    if (typeof hub.url === 'string' && !/^(mqtts|wss|tls):\/\//.test(hub.url)) errors.push(`hub/tls: the hub url ${hub.url} is not a TLS URL (mqtts:// or wss://)`);
  }

  if (errors.length) throw new EdgeConfigError(source, errors);

  const { passwordFile: _file, ...hubRest } = hub;
  if (hubRest.tls) {
    const t = hubRest.tls;
    hubRest.tls = {
      ...t,
      ...(t.ca === undefined ? {} : { ca: resolve(baseDir, t.ca) }),
      ...(t.cert === undefined ? {} : { cert: resolve(baseDir, t.cert) }),
      ...(t.key === undefined ? {} : { key: resolve(baseDir, t.key) }),
    };
  }
  const gatewayId = raw.gateway.id;
  const outboxPath = raw.outbox.path ?? `data/${gatewayId}-outbox.db`;
  return Object.freeze({
    ...raw,
    hub: { ...hubRest, username: hub.username ?? gatewayId, password },
    outbox: { ...raw.outbox, path: isAbsolute(outboxPath) ? outboxPath : resolve(baseDir, outboxPath) },
    field: {
      ...raw.field,
      ...(raw.field.tls === undefined
        ? {}
        : {
            tls: {
              cert: resolve(baseDir, raw.field.tls.cert),
              key: resolve(baseDir, raw.field.tls.key),
              ...(raw.field.tls.ca === undefined ? {} : { ca: resolve(baseDir, raw.field.tls.ca) }),
            },
          }),
    },
    face: {
      ...raw.face,
      gallery: resolve(baseDir, raw.face.gallery),
      ...(raw.face.galleryKeyFile === undefined ? {} : { galleryKeyFile: resolve(baseDir, raw.face.galleryKeyFile) }),
    },
  });
}

/** Reads and validates a YAML config file. Relative paths in it are relative to the file's folder. */
export function loadEdgeConfig(file: string, env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EdgeConfigError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  let obj: unknown;
  try {
    obj = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new EdgeConfigError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  return parseEdgeConfig(obj, file, { baseDir: dirname(resolve(file)), env });
}
