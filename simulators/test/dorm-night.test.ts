import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type SimDevice } from '../src/index.ts';
import { planDormNight, residentCards, type DormNightOptions } from '../src/dorm-night.ts';
import { record, silent, startBroker, type Msg, type Recorder, type TestBroker } from './helpers.ts';

const H = 3600;
const POINTS = [
  { id: 'face-dorm-in-1', direction: 'in' as const },
  { id: 'face-dorm-in-2', direction: 'in' as const },
  { id: 'face-dorm-out-1', direction: 'out' as const },
];
const base = (over: Partial<DormNightOptions> = {}): DormNightOptions => ({
  residents: { prefix: 'LT1-', count: 600 },
  points: POINTS,
  seed: 7,
  late: 0.03,
  absent: 0.01,
  leave: 0.02,
  outAgain: 0.08,
  duplicate: 0.02,
  peakHours: 1.5,
  compress: 1,
  curfew: '23:00',
  outage: { point: 'face-dorm-in-2', at: -2700, seconds: 3600 },
  ...over,
});

describe('dorm night plan', () => {
  it('deals fates as exact shares, peaks arrivals 1-2 h before curfew and is the same for the same seed', () => {
    const plan = planDormNight(base());
    expect(plan.summary).toMatchObject({ residents: 600, late: 18, absent: 6, leave: 12, in: 564, outAgain: Math.round(564 * 0.08) });
    expect(planDormNight(base())).toEqual(plan);
    expect(planDormNight(base({ seed: 8 })).crossings).not.toEqual(plan.crossings);
    // Arrivals of those in on time, by hour before curfew: the busiest hour is the one 1-2 h before.
    const bins = [0, 0, 0, 0, 0, 0];
    for (const r of plan.residents) if (r.fate === 'in' && !r.outAgain) bins[Math.min(5, Math.floor(-r.arrival! / H))]!++;
    expect(bins.indexOf(Math.max(...bins))).toBe(1);
    expect(bins[1]! / bins.reduce((a, b) => a + b)).toBeGreaterThan(0.3);
    for (const r of plan.residents) {
      const mine = plan.crossings.filter((c) => c.card === r.card);
      if (r.fate === 'late') expect(r.arrival).toBeGreaterThan(0);
      if (r.fate === 'in') expect(r.arrival).toBeLessThan(0);
      if (r.fate === 'absent' || r.fate === 'leave') expect(mine).toEqual([]);
      if (r.outAgain) expect(mine.filter((c) => !c.duplicate).map((c) => c.direction)).toEqual(['in', 'out', 'in']);
    }
    expect(plan.summary.stored).toBe(plan.crossings.filter((c) => c.point === 'face-dorm-in-2' && c.at >= -2700 && c.at < 900).length);
    expect(plan.summary.stored).toBeGreaterThan(0);
    expect(residentCards({ prefix: 'A', count: 2 })).toEqual(['A0001', 'A0002']);
  });
});

/**
 * A whole night compressed: speed 1800 (an hour in 2 s), curfew ~14 s after start, three check-in points
 * on a real MQTT broker. What the broker carries is judged against curfew, as a hub would.
 */
describe('dorm night on a broker', () => {
  const SPEED = 1800;
  let broker: TestBroker;
  let rec: Recorder;
  const started: SimDevice[] = [];

  beforeAll(async () => {
    broker = await startBroker();
    rec = await record(broker.url);
  });
  afterAll(async () => {
    await Promise.all(started.map((d) => d.stop()));
    await rec.close();
    await broker.close();
  });

  it('plays arrivals in the planned proportions, takes the failing point offline for the hour, and shows go-out-again sequences', async () => {
    const curfewAt = Date.now() + (6.2 * H * 1000) / SPEED + 1500;
    const night = base({ curfew: undefined, curfewAt: new Date(curfewAt).toISOString(), residents: { prefix: 'LT1-', count: 400 } });
    const plan = planDormNight(night);
    for (const p of POINTS) {
      started.push(await startDevice({ id: p.id, type: 'face-terminal', options: { captureS: 1, night } }, { url: broker.url, speed: SPEED, logger: silent }));
    }
    const simAt = (realMs: number) => ((realMs - curfewAt) / 1000) * SPEED;
    const lastPlanned = Math.max(...plan.crossings.map((c) => c.at));
    await new Promise((r) => setTimeout(r, curfewAt - Date.now() + (lastPlanned * 1000) / SPEED + 1500));
    await rec.waitForCount((m) => /^face\/.*\/capture$/.test(m.topic), plan.crossings.length, 'every planned crossing');

    const caps = rec.messages.filter((m) => /^face\/.*\/capture$/.test(m.topic));
    expect(caps.length).toBe(plan.crossings.length);
    const byCard = new Map<string, Array<{ dir: string; at: number }>>();
    for (const m of caps) {
      const point = m.topic.split('/')[1]!;
      const dir = POINTS.find((p) => p.id === point)!.direction;
      const list = byCard.get(m.json.card as string) ?? [];
      list.push({ dir, at: simAt(m.json.t as number) });
      byCard.set(m.json.card as string, list);
    }
    // States as a hub reads them: the last crossing before curfew decides; an entry after it is late.
    let inBefore = 0;
    let late = 0;
    let goOut = 0;
    for (const list of byCard.values()) {
      list.sort((a, b) => a.at - b.at);
      const before = list.filter((c) => c.at < 0);
      if (before.at(-1)?.dir === 'in') inBefore++;
      else if (list.some((c) => c.dir === 'in' && c.at >= 0)) late++;
      const dirs = before.map((c) => c.dir).filter((d, i, a) => i === 0 || d !== a[i - 1]);
      if (dirs.join(',') === 'in,out,in') goOut++;
    }
    const never = 400 - byCard.size;
    // Timers on a loaded machine slip a little; a slip of 100 ms is 3 simulated minutes at this speed.
    expect(late / 400).toBeGreaterThan(0.02);
    expect(late / 400).toBeLessThan(0.045);
    expect(never).toBe(plan.summary.absent + plan.summary.leave);
    expect(never / 400).toBeCloseTo(0.03, 2);
    expect(inBefore / 400).toBeGreaterThanOrEqual(0.93);
    expect(goOut).toBeGreaterThan(20);

    // The failing point: offline (its last will) for about an hour of simulated time, nothing from it meanwhile,
    // then back, delivering the captures it stored with the times they were made.
    const avail = rec.messages.map((m, i) => ({ m, i })).filter(({ m }) => m.topic === 'avail/face-dorm-in-2');
    const off = avail.find(({ m }) => m.text === 'offline');
    expect(off).toBeDefined();
    const on = avail.find(({ m, i }) => m.text === 'online' && i > off!.i);
    expect(on).toBeDefined();
    const between = rec.messages.slice(off!.i + 1, on!.i).filter((m: Msg) => m.topic === 'face/face-dorm-in-2/capture');
    expect(between).toEqual([]);
    // Judged a simulated minute inside the window: timers on a loaded machine slip by a few simulated seconds.
    const inWindow = (m: Msg) => simAt(m.json.t as number) >= -2700 + 60 && simAt(m.json.t as number) < 900 - 60;
    const stored = caps.filter((m) => m.topic === 'face/face-dorm-in-2/capture' && inWindow(m));
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.filter((m) => rec.messages.indexOf(m) < on!.i).map((m) => simAt(m.json.t as number))).toEqual([]);
    const states = started.map((d) => d.state().night as { played: number; skipped: number });
    expect(states.reduce((a, s) => a + s.played, 0)).toBe(plan.crossings.length);
    expect(states.every((s) => s.skipped === 0)).toBe(true);
  }, 60_000);
});
