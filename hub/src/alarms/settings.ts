import Type, { type Static } from 'typebox';
import { ROLES } from '@warden/contract';
import { ALARM_TYPES, ALARM_TYPE_NAMES, PRIORITIES, type AlarmType, type Priority } from './types.ts';

const PrioritySchema = Type.Enum(PRIORITIES, { description: PRIORITIES.join(' | ') });
const RoleSchema = Type.Enum(ROLES, { description: ROLES.join(' | ') });
const Duration = (def: string | undefined, description: string) =>
  Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$', ...(def ? { default: def } : {}), description: `${description} (e.g. 90s, 15m, 12h)` });
const Hhmm = Type.String({ pattern: '^([01][0-9]|2[0-4]):[0-5][0-9]$', description: 'HH:MM, campus local time; 24:00 = end of day' });
const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const Day = Type.Enum(DAY_NAMES, { description: DAY_NAMES.join(' | ') });
const TypePattern = Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+|\\.\\*)$', description: 'an alarm type or a family such as fire.*' });

const ScheduleSchema = Type.Array(
  Type.Object({ days: Type.Array(Day, { minItems: 1, uniqueItems: true }), from: Hhmm, to: Hhmm }, { additionalProperties: false }),
  { description: 'weekly periods when access is normal' },
);

const LinkageSchema = Type.Object(
  {
    type: TypePattern,
    building: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only alarms in this building' })),
    zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only alarms in this zone' })),
    holdOpen: Type.Optional(
      Type.Union([Type.Enum(['evacuation', 'all', 'none'] as const), Type.Array(Type.String({ minLength: 1 }))], {
        default: 'none',
        description: "doors sent door.hold_open: 'evacuation' (the building's evacuationRoutes, else all its doors), 'all' doors of the building, or a list",
      }),
    ),
    turnstiles: Type.Optional(Type.Enum(['free', 'none'] as const, { default: 'none', description: "'free': turnstile.set_mode free to the building's turnstiles" })),
    cameras: Type.Optional(Type.Boolean({ default: true, description: "pop the cameras of the alarm's zone (else building) on the console" })),
    ptz: Type.Optional(
      Type.Array(Type.Object({ camera: Type.String({ minLength: 1, maxLength: 128 }), preset: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }), {
        maxItems: 100,
        description: 'PTZ cameras sent camera.goto_preset (preset token or name) to look at the scene',
      }),
    ),
    notify: Type.Optional(Type.Array(RoleSchema, { default: [], uniqueItems: true, description: 'roles notified on the console' })),
  },
  { additionalProperties: false },
);

const NON_LATCHING = ALARM_TYPE_NAMES.filter((t) => !ALARM_TYPES[t].latching);
const priorityProps = Object.fromEntries(ALARM_TYPE_NAMES.map((t) => [t, Type.Optional(PrioritySchema)]));

export const AlarmsConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'run the alarm engine' }),
    timezone: Type.String({ minLength: 1, default: 'Asia/Shanghai', description: 'IANA time zone of the door schedules' }),
    heldOpenSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 60, description: 'door.opened without door.closed for this long raises door.held_open' }),
    offlineDebounceSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 60, description: 'device.offline not followed by device.online within this raises an alarm' }),
    deniedThreshold: Type.Integer({ minimum: 2, maximum: 100, default: 5, description: 'access.denied on one credential or door within deniedWindowSeconds (GB 50396)' }),
    deniedWindowSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 60 }),
    antiPassbackWindow: Duration('12h', 'a second entry on one credential within this time, without an exit, raises anti-passback'),
    priorities: Type.Object(priorityProps, { additionalProperties: false, default: {}, description: 'priority per alarm type, over the defaults' }),
    autoResolve: Type.Array(
      Type.Enum(NON_LATCHING, { description: NON_LATCHING.join(' | ') }),
      { default: [], uniqueItems: true, description: 'non-latching alarm types resolved by the hub when their condition clears' },
    ),
    escalation: Type.Object(
      {
        to: RoleSchema,
        critical: Type.Optional(Duration(undefined, 'escalate a critical alarm not acknowledged within')),
        high: Type.Optional(Duration(undefined, 'the same for high')),
        medium: Type.Optional(Duration(undefined, 'the same for medium')),
        low: Type.Optional(Duration(undefined, 'the same for low')),
      },
      { additionalProperties: false, default: { to: 'admin', critical: '2m', high: '5m', medium: '15m' }, description: 'a priority without a duration is not escalated' },
    ),
    flood: Type.Object(
      {
        threshold: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 50, description: 'new alarms of one type in one building within windowSeconds before a storm is folded' }),
        windowSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 60, description: 'a storm ends after this long without a new alarm of its type and building' }),
      },
      {
        additionalProperties: false,
        default: {},
        description: "flood control: in a storm each device keeps its first alarm; its further alarms of the type are counted in the building's storm alarm",
      },
    ),
    schedules: Type.Record(Type.String({ pattern: '^[a-z0-9_-]{1,64}$' }), ScheduleSchema, { default: {}, description: 'named weekly schedules' }),
    doorSchedules: Type.Array(
      Type.Object(
        {
          device: Type.Optional(Type.String({ minLength: 1 })),
          building: Type.Optional(Type.String({ minLength: 1 })),
          schedule: Type.String({ minLength: 1 }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'which schedule a door follows: by device, else by building; a door without one is not checked' },
    ),
    evacuationRoutes: Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 })), {
      default: {},
      description: 'building -> doors on its evacuation routes',
    }),
    linkageRetry: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'retry linkage commands whose result came back failed (device offline, timeout) or never came' }),
        delays: Type.Array(Duration(undefined, 'wait before a retry'), {
          default: ['5s', '15s', '60s'],
          maxItems: 20,
          description: 'waits before the first, second, ... retry of one command',
        }),
        every: Duration('5m', 'then one retry per this while the alarm is not resolved'),
        maxAttempts: Type.Integer({ minimum: 0, maximum: 100_000, default: 0, description: 'retries per command at most; 0 = as long as the alarm is not resolved' }),
      },
      { additionalProperties: false, default: {}, description: 'linkage retried on a timer, per device and command' },
    ),
    linkage: Type.Array(LinkageSchema, {
      default: [
        { type: 'fire.alarm', holdOpen: 'evacuation', turnstiles: 'free', cameras: true, notify: ['security', 'admin'] },
        { type: 'emergency.call', cameras: true, notify: ['security'] },
        { type: 'intrusion.alarm', cameras: true, notify: ['security'] },
        { type: 'door.forced', cameras: true },
      ],
      description: 'automatic reactions per alarm type and building/zone; every matching entry runs',
    }),
  },
  { additionalProperties: false, default: {}, description: 'alarm engine' },
);

export const SiteConfigSchema = Type.Object(
  {
    plan: Type.Optional(Type.String({ minLength: 1, description: 'SVG file of the site plan (relative to the config file)' })),
    width: Type.Integer({ minimum: 1, default: 1000, description: 'plan coordinate width' }),
    height: Type.Integer({ minimum: 1, default: 1000, description: 'plan coordinate height' }),
    markers: Type.Array(
      Type.Object({ device: Type.String({ minLength: 1 }), x: Type.Number(), y: Type.Number() }, { additionalProperties: false }),
      { default: [] },
    ),
  },
  { additionalProperties: false, default: {}, description: 'site plan for the console' },
);

export type AlarmsConfig = Static<typeof AlarmsConfigSchema>;
export type SiteConfig = Static<typeof SiteConfigSchema>;
export type LinkageConfig = Static<typeof LinkageSchema>;

/** Cross-field checks the schema cannot express; each error names its path. */
export function checkAlarmsConfig(a: AlarmsConfig): string[] {
  const errors: string[] = [];
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: a.timezone });
  } catch {
    errors.push(`/alarms/timezone: unknown time zone ${JSON.stringify(a.timezone)}`);
  }
  a.doorSchedules.forEach((d, i) => {
    if (!Object.hasOwn(a.schedules, d.schedule)) errors.push(`/alarms/doorSchedules/${i}/schedule: no schedule named ${JSON.stringify(d.schedule)} in alarms.schedules`);
    if ((d.device === undefined) === (d.building === undefined)) errors.push(`/alarms/doorSchedules/${i}: give exactly one of device or building`);
  });
  for (const [name, periods] of Object.entries(a.schedules)) {
    periods.forEach((p, i) => {
      if (p.from >= p.to) errors.push(`/alarms/schedules/${name}/${i}: from ${p.from} must be before to ${p.to}`);
    });
  }
  a.linkage.forEach((l, i) => {
    const family = l.type.endsWith('.*') ? l.type.slice(0, -1) : null;
    const known = family ? ALARM_TYPE_NAMES.some((t) => t.startsWith(family)) : Object.hasOwn(ALARM_TYPES, l.type);
    if (!known) errors.push(`/alarms/linkage/${i}/type: no alarm type ${JSON.stringify(l.type)} (known: ${ALARM_TYPE_NAMES.join(', ')})`);
  });
  return errors;
}

const DAY_INDEX: Record<string, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 0 };

/** The engine's view of the config: defaults applied, lookups precomputed. */
export interface AlarmSettings {
  raw: AlarmsConfig;
  durationMs(text: string): number;
  priority(type: AlarmType): Priority;
  autoResolves(type: AlarmType): boolean;
  /** ms after firstAt to escalate, or null. */
  escalateAfterMs(p: Priority): number | null;
  /** null: the door has no schedule (never "after hours"); else whether `ts` is inside it. */
  withinSchedule(door: { id: string; building: string | null }, ts: number): boolean | null;
  linkageFor(type: AlarmType, building: string | null, zone: string | null): LinkageConfig[];
  /** ms to wait before retry number `attempt` (1-based) of a failed linkage command; null = no more retries. */
  linkageRetryDelayMs(attempt: number): number | null;
}

export function alarmSettings(a: AlarmsConfig, durationMs: (s: string) => number): AlarmSettings {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: a.timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const byDevice = new Map<string, string>();
  const byBuilding = new Map<string, string>();
  for (const d of a.doorSchedules) {
    if (d.device) byDevice.set(d.device, d.schedule);
    else if (d.building) byBuilding.set(d.building, d.schedule);
  }
  const localTime = (ts: number) => {
    let day = 0;
    let hh = 0;
    let mm = 0;
    for (const p of parts.formatToParts(new Date(ts))) {
      if (p.type === 'weekday') day = DAY_INDEX[p.value.toLowerCase().slice(0, 3)] ?? 0;
      else if (p.type === 'hour') hh = Number(p.value);
      else if (p.type === 'minute') mm = Number(p.value);
    }
    return { day, hhmm: `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}` };
  };
  return {
    raw: a,
    durationMs,
    priority: (t) => a.priorities[t] ?? ALARM_TYPES[t].priority,
    autoResolves: (t) => !ALARM_TYPES[t].latching && (a.autoResolve as readonly string[]).includes(t),
    escalateAfterMs: (p) => {
      const d = a.escalation[p];
      return d ? durationMs(d) : null;
    },
    withinSchedule(door, ts) {
      const name = byDevice.get(door.id) ?? (door.building ? byBuilding.get(door.building) : undefined);
      if (!name) return null;
      const { day, hhmm } = localTime(ts);
      return (a.schedules[name] ?? []).some((p) => p.days.some((d) => DAY_INDEX[d] === day) && hhmm >= p.from && hhmm < p.to);
    },
    linkageRetryDelayMs(attempt) {
      const r = a.linkageRetry;
      if (!r.enabled || attempt < 1 || (r.maxAttempts > 0 && attempt > r.maxAttempts)) return null;
      const d = r.delays[attempt - 1] ?? r.every;
      return Math.max(1000, durationMs(d));
    },
    linkageFor(type, building, zone) {
      return a.linkage.filter((l) => {
        const typeOk = l.type.endsWith('.*') ? type.startsWith(l.type.slice(0, -1)) : l.type === type;
        return typeOk && (l.building === undefined || l.building === building) && (l.zone === undefined || l.zone === zone);
      });
    },
  };
}
