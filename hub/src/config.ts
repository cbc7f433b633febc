import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Type, { type Static, type TProperties } from 'typebox';
import Value from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { DEVICE_ID_PATTERN, DEVICE_KINDS, GATEWAY_ID_PATTERN, RoleSchema, ScopeSchema, literalUnion, schemaErrors } from '@warden/contract';
import { AlarmsConfigSchema, SiteConfigSchema, checkAlarmsConfig } from './alarms/settings.ts';
import { EnergyConfigSchema, checkEnergyConfig } from './energy/config.ts';
import { FacesConfigSchema } from './faces/config.ts';
import { checkFaceKeysConfig } from './faces/keys.ts';
import { RetentionConfigSchema } from './lifecycle/config.ts';
import { LimitsConfigSchema } from './api/rate-limit.ts';
import { VideoConfigSchema, checkVideoConfig } from './video/config.ts';
import { TelemetryConfigSchema, checkTelemetryConfig } from './store/telemetry-config.ts';

/** The console build, next to the hub package in the repository. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

export { ROLES, type Role } from '@warden/contract';

const Duration = (def: string, description: string) =>
  Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$', default: def, description: `${description} (e.g. 90s, 15m, 12h, 7d)` });
const Port = (def: number, description: string) => Type.Integer({ minimum: 0, maximum: 65535, default: def, description });
const Section = <T extends TProperties>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });

const TlsFiles = (description: string) =>
  Type.Object(
    {
      cert: Type.String({ minLength: 1, description: 'PEM certificate (chain) file; relative to the config file' }),
      key: Type.String({ minLength: 1, description: 'PEM private key file; relative to the config file' }),
      ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA file: clients may present a certificate signed by it' })),
    },
    { additionalProperties: false, description },
  );

export const UserSchema = Type.Object(
  {
    username: Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,63}$', description: 'login name' }),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true }),
    scope: Type.Optional(ScopeSchema),
    password: Type.String({ minLength: 8, maxLength: 200 }),
  },
  { additionalProperties: false },
);

const GatewaySchema = Type.Object(
  {
    id: Type.String({ pattern: GATEWAY_ID_PATTERN, description: 'gateway id = its MQTT username' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Type.String({ minLength: 8, maxLength: 200, description: 'stored only as an argon2 hash' }),
  },
  { additionalProperties: false },
);

export const HubConfigSchema = Type.Object(
  {
    http: Section(
      {
        host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'REST API, live feed, console and MQTT over WebSocket' }),
        port: Port(8080, 'HTTP port; 0 picks a free one'),
        tls: Type.Optional(TlsFiles('HTTPS for the REST API, socket.io, live video and MQTT over WebSocket (docs/TLS.md)')),
        allowInsecure: Type.Optional(
          Type.Boolean({ description: 'UNSAFE: serve plain HTTP on a non-loopback address (passwords and tokens in clear); without it such a hub refuses to start' }),
        ),
      },
      'HTTP listener',
    ),
    mqtt: Section(
      {
        host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'MQTT over TCP for gateways' }),
        port: Port(1883, 'MQTT TCP port; 0 picks a free one'),
        websocketPath: Type.String({ pattern: '^/[A-Za-z0-9/_-]*$', default: '/mqtt', description: 'MQTT over WebSocket, on the HTTP listener' }),
        maxPacketBytes: Type.Integer({ minimum: 1024, maximum: 268_435_455, default: 1_048_576, description: 'larger MQTT packets drop the connection' }),
        tls: Type.Optional(
          Type.Object(
            {
              host: Type.Optional(Type.String({ minLength: 1, description: 'MQTT over TLS address (default: mqtt.host)' })),
              port: Port(8883, 'MQTT over TLS port; 0 picks a free one'),
              cert: Type.String({ minLength: 1, description: "PEM certificate (chain) file of the hub; relative to the config file" }),
              key: Type.String({ minLength: 1, description: 'PEM private key file; relative to the config file' }),
              ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA file for gateway client certificates (mutual TLS); a presented certificate must chain to it and name the gateway' })),
              requireClientCert: Type.Boolean({
                default: false,
                description: 'mutual TLS: every gateway login (on any listener) needs a client certificate from tls.ca whose CN or SAN is its gateway id',
              }),
            },
            { additionalProperties: false, description: 'MQTT over TLS (MQTTS) for gateways (docs/TLS.md)' },
          ),
        ),
        plain: Type.Optional(Type.Boolean({ description: 'serve plain MQTT on mqtt.port too (default: true without mqtt.tls, false with it)' })),
        allowInsecure: Type.Optional(
          Type.Boolean({ description: 'UNSAFE: serve plain MQTT on a non-loopback address (gateway passwords and commands in clear); without it such a hub refuses to start' }),
        ),
      },
      'MQTT broker for gateways',
    ),
    dataDir: Type.String({ minLength: 1, default: '.warden/hub', description: 'SQLite state, DuckDB telemetry, JWT secret' }),
    auth: Section(
      {
        tokenTtl: Duration('12h', 'lifetime of a console login token'),
        loginAttemptsPerMinute: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'failed logins per username and IP before 429' }),
        lockoutThreshold: Type.Integer({ minimum: 1, maximum: 5, default: 5, description: 'failed logins on one account within lockoutWindow that lock it and raise an alarm (at most 5, GB 50396)' }),
        lockoutWindow: Duration('15m', 'the lockout window, and how long a locked account stays locked'),
        auditRetentionDays: Type.Integer({ minimum: 180, maximum: 36500, default: 365, description: 'audit entries older than this are deleted by the retention job (never less than 180 days: Cybersecurity Law art. 21)' }),
        mqttAuthFailuresPerMinute: Type.Integer({ minimum: 1, maximum: 10000, default: 20, description: 'failed MQTT logins per source address per minute before further CONNECTs are refused unchecked' }),
      },
      'console logins',
    ),
    admin: Section(
      { password: Type.Optional(Type.String({ minLength: 8, maxLength: 200, description: 'first start only; generated and printed once when absent' })) },
      'the built-in admin user',
    ),
    users: Type.Array(UserSchema, { default: [], description: 'seed users, created when missing (demos)' }),
    gateways: Type.Array(GatewaySchema, { default: [], description: 'gateways provisioned at start; the config password wins' }),
    devices: Section(
      {
        autoRegister: Type.Boolean({
          default: true,
          description: "keep the new devices a gateway declares in its retained inventory as proposals (status 'proposed') for an admin to adopt; off: refuse them",
        }),
        registry: Type.Array(
          Type.Object(
            {
              id: Type.String({ pattern: DEVICE_ID_PATTERN, description: 'device id' }),
              gateway: Type.String({ minLength: 1, maxLength: 64, description: 'the gateway it is behind' }),
              kind: literalUnion(DEVICE_KINDS, { description: 'what it is; safety events are accepted only from the matching kind' }),
              building: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
              zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
              location: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            },
            { additionalProperties: false },
          ),
          {
            default: [],
            description: "devices the hub owns, adopted at start: their kind, building and zone are the hub's, never a gateway inventory's",
          },
        ),
      },
      'device registry',
    ),
    commands: Section({ ttl: Duration('30s', 'a command not acted on within this time is refused by the gateway') }, 'device commands'),
    ingest: Section(
      {
        deadLetterLimit: Type.Integer({ minimum: 100, maximum: 10_000_000, default: 10_000, description: 'rejected messages kept; oldest dropped first' }),
        telemetryDedupWindow: Duration('7d', 'how long telemetry record ids are remembered for deduplication'),
        maxBacklogBytes: Type.Integer({ minimum: 1_048_576, maximum: 4_294_967_296, default: 67_108_864, description: 'uplink bytes taken from all gateways and not yet stored beyond which gateways with 1 MiB or more waiting are held back' }),
        maxGatewayBacklogBytes: Type.Integer({ minimum: 1_048_576, maximum: 4_294_967_296, default: 16_777_216, description: "one gateway's uplink bytes taken and not yet stored beyond which that gateway alone is held back" }),
        maxRecordsPerTurn: Type.Integer({ minimum: 1, maximum: 100_000, default: 100, description: 'records one storage turn (one commit) of a bulk batch handles at most; the event loop turns between two' }),
      },
      'uplink ingest',
    ),
    dashboard: Section(
      { dir: Type.String({ minLength: 1, default: DEFAULT_DASHBOARD_DIR, description: 'console build served at /' }) },
      'console',
    ),
    retention: RetentionConfigSchema,
    limits: LimitsConfigSchema,
    alarms: AlarmsConfigSchema,
    energy: EnergyConfigSchema,
    faces: FacesConfigSchema,
    site: SiteConfigSchema,
    video: VideoConfigSchema,
    telemetry: TelemetryConfigSchema,
  },
  { additionalProperties: false },
);

export type HubConfig = Readonly<Static<typeof HubConfigSchema>>;

export class ConfigError extends Error {
  constructor(
    readonly errors: string[],
    source: string,
  ) {
    super(`invalid hub config (${source}):\n  ${errors.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Every schema problem as `/path: message` (the contract's one formatter). */
const explain = (value: unknown): string[] => schemaErrors(HubConfigSchema, value);

const ENV_PORTS = { WARDEN_HTTP_PORT: 'http', WARDEN_MQTT_PORT: 'mqtt' } as const;

function applyEnv(obj: Record<string, unknown>, env: NodeJS.ProcessEnv, errors: string[]): void {
  for (const [name, section] of Object.entries(ENV_PORTS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const port = Number(raw);
    if (!/^[0-9]+$/.test(raw) || port > 65535) {
      errors.push(`env ${name}: ${JSON.stringify(raw)} is not a TCP port (0-65535)`);
      continue;
    }
    const current = obj[section];
    obj[section] = { ...(current && typeof current === 'object' ? current : {}), port };
  }
  if (env.WARDEN_DATA_DIR) obj.dataDir = resolve(env.WARDEN_DATA_DIR);
  if (env.WARDEN_ADMIN_PASSWORD) {
    const current = obj.admin;
    obj.admin = { ...(current && typeof current === 'object' ? current : {}), password: env.WARDEN_ADMIN_PASSWORD };
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * Validates a config object, fills defaults and freezes it. `env` overrides (WARDEN_HTTP_PORT, WARDEN_MQTT_PORT,
 * WARDEN_DATA_DIR, WARDEN_ADMIN_PASSWORD) apply only when passed, so tests stay independent of the shell.
 * Relative paths resolve against `baseDir` (the config file's folder when loaded from a file).
 */
export function parseHubConfig(obj: unknown, env: NodeJS.ProcessEnv = {}, opts: { baseDir?: string; source?: string } = {}): HubConfig {
  const source = opts.source ?? 'object';
  if (obj === null || obj === undefined) obj = {};
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new ConfigError(['/: must be a mapping'], source);
  const errors: string[] = [];
  const raw = Value.Clone(obj) as Record<string, unknown>;
  applyEnv(raw, env, errors);
  const filled = Value.Default(HubConfigSchema, raw);
  errors.push(...explain(filled));
  if (errors.length) throw new ConfigError(errors, source);
  const cfg = filled as Static<typeof HubConfigSchema>;
  const base = opts.baseDir ?? process.cwd();
  cfg.dataDir = isAbsolute(cfg.dataDir) ? cfg.dataDir : resolve(base, cfg.dataDir);
  cfg.dashboard.dir = isAbsolute(cfg.dashboard.dir) ? cfg.dashboard.dir : resolve(base, cfg.dashboard.dir);
  if (cfg.site.plan !== undefined && !isAbsolute(cfg.site.plan)) cfg.site.plan = resolve(base, cfg.site.plan);
  errors.push(...checkTransportSecurity(cfg, base));
  errors.push(...checkAlarmsConfig(cfg.alarms));
  errors.push(...checkEnergyConfig(cfg.energy));
  // Face-template key files: relative to the config file, never inside the data dir (hub/src/faces/keys.ts).
  for (const k of [cfg.faces.keys.current, ...cfg.faces.keys.previous]) if (k?.file !== undefined && !isAbsolute(k.file)) k.file = resolve(base, k.file);
  errors.push(...checkFaceKeysConfig(cfg.faces.keys, cfg.dataDir));
  errors.push(...checkVideoConfig(cfg.video));
  errors.push(...checkTelemetryConfig(cfg.telemetry, base));
  const ids = new Set<string>();
  cfg.gateways.forEach((g, i) => {
    if (ids.has(g.id)) errors.push(`/gateways/${i}/id: duplicate gateway id ${g.id}`);
    ids.add(g.id);
  });
  const deviceIds = new Set<string>();
  cfg.devices.registry.forEach((d, i) => {
    if (deviceIds.has(d.id)) errors.push(`/devices/registry/${i}/id: duplicate device id ${d.id}`);
    if (!ids.has(d.gateway)) errors.push(`/devices/registry/${i}/gateway: no gateway ${d.gateway} in gateways`);
    deviceIds.add(d.id);
  });
  const names = new Set<string>();
  cfg.users.forEach((u, i) => {
    if (names.has(u.username)) errors.push(`/users/${i}/username: duplicate username ${u.username}`);
    names.add(u.username);
  });
  if (errors.length) throw new ConfigError(errors, source);
  return deepFreeze(cfg);
}

/** 127.0.0.0/8, ::1 and localhost: only processes on this machine can reach such a listener. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/** TLS file paths made absolute; a plain listener on a non-loopback address refused unless allowed explicitly. */
function checkTransportSecurity(cfg: Static<typeof HubConfigSchema>, base: string): string[] {
  const errors: string[] = [];
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  for (const t of [cfg.http.tls, cfg.mqtt.tls]) {
    if (!t) continue;
    t.cert = abs(t.cert);
    t.key = abs(t.key);
    if (t.ca !== undefined) t.ca = abs(t.ca);
  }
  if (!cfg.http.tls && !cfg.http.allowInsecure && !isLoopbackHost(cfg.http.host)) {
    errors.push(`/http: plain HTTP on ${cfg.http.host}, a non-loopback address, would carry passwords and tokens in clear: give http.tls, or set http.allowInsecure: true to accept that risk`);
  }
  if (cfg.mqtt.tls?.requireClientCert && !cfg.mqtt.tls.ca) errors.push('/mqtt/tls/requireClientCert: needs mqtt.tls.ca, the CA gateway certificates must chain to');
  if (cfg.mqtt.plain === false && !cfg.mqtt.tls) errors.push('/mqtt/plain: false needs mqtt.tls, or the hub has no MQTT listener');
  if ((cfg.mqtt.plain ?? !cfg.mqtt.tls) && !cfg.mqtt.allowInsecure && !isLoopbackHost(cfg.mqtt.host)) {
    errors.push(`/mqtt: plain MQTT on ${cfg.mqtt.host}, a non-loopback address, would carry gateway passwords and commands in clear: give mqtt.tls (plain is then off), or set mqtt.allowInsecure: true`);
  }
  return errors;
}

/** Reads a YAML config file (or only defaults when `file` is absent) and applies environment overrides. */
export function loadHubConfig(file?: string, env: NodeJS.ProcessEnv = process.env): HubConfig {
  if (!file) return parseHubConfig({}, env, { source: 'defaults' });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read ${file}: ${(err as Error).message}`], file);
  }
  let obj: unknown;
  try {
    obj = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`YAML: ${(err as Error).message}`], file);
  }
  return parseHubConfig(obj, env, { baseDir: dirname(resolve(file)), source: file });
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** '15m' -> 900000. The config schema guarantees the format. */
export function durationMs(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
