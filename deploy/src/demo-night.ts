import type { CampusPlan } from '@warden/simulators';

/**
 * The demo campus's compressed dorm night (issue 11): Lutian Apartments Block 1 gets three card check-in points
 * (two in, one out) whose simulators play a dorm night (simulators/src/dorm-night.ts) 30 times faster around a
 * curfew set a few minutes after `npm start`, so a newcomer sees the attendance board fill: most residents come
 * home before curfew, 3 % late, 1 % absent, 2 % on leave, one point drops off for the equivalent of an hour.
 * The hub is set up through its own REST API as an administrator would: persons with cards, the roster (student id
 * = person id, which is what a check-in names), the building's curfew. The points read cards only, so the dorm
 * gateway decides credentials without loading face models (edge face.cardsOnly).
 */
export const DEMO_NIGHT = {
  building: 'lutian-1',
  gateway: 'gw-lutian-1',
  cardPrefix: 'LT1-',
  residents: 120,
  /** The night plays this many times faster: 6 h of evening in 9 min. */
  compress: 40,
  /** Curfew at least this many minutes after the simulators start, on a whole minute (the earliest arrival is 9 min before). */
  leadMinutes: 10,
  reportDelayMinutes: 3,
  timeZone: 'Asia/Shanghai',
  seed: 0,
} as const;

const POINTS = [
  { id: 'face-lutian-1-in-1', direction: 'in', zh: '宿管刷卡1号（进）', en: 'check-in 1 (in)' },
  { id: 'face-lutian-1-in-2', direction: 'in', zh: '宿管刷卡2号（进）', en: 'check-in 2 (in)' },
  { id: 'face-lutian-1-out-1', direction: 'out', zh: '宿管刷卡（出）', en: 'check-out' },
] as const;

export const cardOf = (i: number): string => `${DEMO_NIGHT.cardPrefix}${String(i + 1).padStart(4, '0')}`;

/** The demo night's curfew: the first whole minute at least leadMinutes ahead, as an instant and as campus HH:MM. */
export function demoCurfew(now = Date.now()): { at: number; iso: string; clock: string } {
  const at = Math.ceil((now + DEMO_NIGHT.leadMinutes * 60_000) / 60_000) * 60_000;
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone: DEMO_NIGHT.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(at));
  return { at, iso: new Date(at).toISOString(), clock };
}

/** Moves the demo night of a plan (from addDemoNight) to a new curfew instant. */
export function retimeDemoNight(plan: CampusPlan, curfewAt: string): void {
  for (const d of plan.gateways.flatMap((g) => g.devices)) {
    const night = (d.options as { night?: { curfewAt?: string } } | undefined)?.night;
    if (night && POINTS.some((p) => p.id === d.id)) night.curfewAt = curfewAt;
  }
}

/** Adds the dorm's card check-in points, playing the compressed night around `curfewAt`, to the demo plan. */
export function addDemoNight(plan: CampusPlan, curfewAt: string): boolean {
  const gw = plan.gateways.find((g) => g.id === DEMO_NIGHT.gateway);
  if (!gw || gw.devices.some((d) => d.id === POINTS[0].id)) return false;
  const night = {
    curfewAt,
    residents: { prefix: DEMO_NIGHT.cardPrefix, count: DEMO_NIGHT.residents },
    seed: DEMO_NIGHT.seed,
    compress: DEMO_NIGHT.compress,
    points: POINTS.map((p) => ({ id: p.id, direction: p.direction })),
    outage: { point: 'face-lutian-1-in-2', at: -2700, seconds: 3600 },
  };
  for (const p of POINTS) {
    gw.devices.push({
      id: p.id,
      driver: 'face-terminal',
      kind: 'face_terminal',
      name: `鹿田公寓1号楼${p.zh} · Lutian Apartments Block 1 ${p.en}`,
      building: DEMO_NIGHT.building,
      zone: '1F',
      options: { night },
      edge: { mode: 'dorm', direction: p.direction },
    });
  }
  return true;
}

interface Person {
  id: string;
  credentials: string[];
}

async function adminCall(url: string, adminPassword: string): Promise<<T>(path: string, method?: string, body?: unknown) => Promise<T>> {
  const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: adminPassword }) });
  if (!login.ok) throw new Error(`demo night: admin login refused (HTTP ${login.status})`);
  const { token } = (await login.json()) as { token: string };
  return async <T>(path: string, method = 'GET', body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`demo night: ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : null) as T;
  };
}

/** The dorm's curfew at `clock` (campus HH:MM) on every day type, the list reported reportDelayMinutes later. */
export async function setDemoCurfew(o: { url: string; adminPassword: string; clock: string }): Promise<void> {
  const call = await adminCall(o.url, o.adminPassword);
  const settings = await call<Record<string, unknown> & { buildings?: Record<string, unknown> }>('/api/attendance/settings');
  const c = o.clock;
  await call('/api/attendance/settings', 'PUT', {
    ...settings,
    buildings: { ...(settings.buildings ?? {}), [DEMO_NIGHT.building]: { weekday: c, weekend: c, holiday: c, exam: c } },
    reportDelayMinutes: DEMO_NIGHT.reportDelayMinutes,
    reportCheckSeconds: 10,
  });
}

/**
 * Sets the hub up for the demo night through REST: the dorm gateway's gallery holds the dorm's residents, one
 * person per card, and the roster (re-imported: idempotent). The curfew follows with setDemoCurfew.
 */
export async function setUpDemoNight(o: { url: string; adminPassword: string; now?: number; log?: (line: string) => void }): Promise<{ residents: number; created: number }> {
  const call = await adminCall(o.url, o.adminPassword);
  const b = DEMO_NIGHT.building;
  await call(`/api/faces/gateways/${DEMO_NIGHT.gateway}`, 'PUT', { dorms: [b], buildings: [b], watchlist: true });
  const { persons } = await call<{ persons: Person[] }>('/api/faces/persons');
  const byCard = new Map(persons.flatMap((p) => p.credentials.map((c) => [c, p] as const)));
  let created = 0;
  const rows = ['student_id,name,building,floor,room'];
  for (let i = 0; i < DEMO_NIGHT.residents; i++) {
    const card = cardOf(i);
    let p = byCard.get(card);
    if (!p) {
      p = await call<Person>('/api/faces/persons', 'POST', { name: `住宿生${i + 1} · Resident ${i + 1}`, roles: ['student'], dorms: [b], credentials: [card] });
      created++;
    }
    const floor = 1 + Math.floor(i / 20);
    rows.push(`${p.id},住宿生${i + 1} · Resident ${i + 1},${b},${floor},${floor * 100 + 1 + Math.floor((i % 20) / 4)}`);
  }
  const effective = new Date((o.now ?? Date.now()) - 30 * 86_400_000).toISOString().slice(0, 10);
  await call('/api/attendance/roster', 'POST', { format: 'csv', data: Buffer.from(rows.join('\n')).toString('base64'), effective, apply: true });
  o.log?.(`demo night: ${DEMO_NIGHT.residents} residents of ${b} on the roster (${created} persons with cards created now)`);
  return { residents: DEMO_NIGHT.residents, created };
}
