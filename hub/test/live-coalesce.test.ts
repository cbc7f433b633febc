import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { LiveMessages } from '@warden/contract';
import { LiveCoalescer, type LiveSink } from '../src/live/coalesce.ts';

// The coalescer on its own: the test is its clock (flush() by hand), the sink records what a client would receive.

function sink(): LiveSink & { got: Array<[string, unknown]>; busyNow: boolean } {
  const s = {
    got: [] as Array<[string, unknown]>,
    busyNow: false,
    connected: true,
    emit(name: string, msg: unknown) {
      s.got.push([name, msg]);
    },
    busy: () => s.busyNow,
  };
  return s;
}

function setup(max = 5) {
  const registry = new Registry();
  const counter = new Counter({ name: 'c', help: 'c', labelNames: ['kind'] as const, registers: [registry] });
  const c = new LiveCoalescer(counter, max);
  const count = async (kind: string) => (await counter.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
  return { c, count };
}

let n = 0;
function ev(type: string, device = 'door-1'): LiveMessages['event'] {
  n++;
  return { id: `e${n}`, seq: n, gateway: 'gw', device, type, ts: n, receivedAt: n, data: {} } as LiveMessages['event'];
}
function alarm(id: string, count: number, state: 'raised' | 'acknowledged' = 'raised'): LiveMessages['alarm'] {
  return { id, count, state, type: 'turnstile.antipassback', device: 'ts-1' } as LiveMessages['alarm'];
}

describe('live coalescer', () => {
  it('sends routine events as one batch per flush, the newest `max`, the rest counted in skipped', async () => {
    const { c, count } = setup(5);
    const s = sink();
    c.add(s);
    const flood = Array.from({ length: 12 }, () => ev('door.opened'));
    for (const e of flood) c.send(s, 'event', e);
    expect(s.got).toEqual([]);
    c.flush();
    expect(s.got).toHaveLength(1);
    const [name, batch] = s.got[0] as [string, LiveMessages['events']];
    expect(name).toBe('events');
    expect(batch.skipped).toBe(7);
    expect(batch.events.map((e) => e.id)).toEqual(flood.slice(7).map((e) => e.id));
    // Nothing waiting: no empty batch.
    c.flush();
    expect(s.got).toHaveLength(1);
    expect(await count('skipped_event')).toBe(7);
    expect(await count('batched_event')).toBe(5);
    expect(await count('batch')).toBe(1);
  });

  it('sends safety events, a new alarm, linkage and availability at once while a flood waits', () => {
    const { c } = setup(5);
    const s = sink();
    c.add(s);
    for (let i = 0; i < 50; i++) c.send(s, 'event', ev('access.granted'));
    const forced = ev('door.forced');
    c.send(s, 'event', forced);
    c.send(s, 'alarm', alarm('a1', 1));
    c.send(s, 'linkage', { alarmId: 'a1', action: 'cameras.show', devices: [] });
    c.send(s, 'device', { id: 'door-1', gateway: 'gw', online: false, lastSeen: 1 });
    expect(s.got.map(([name]) => name)).toEqual(['event', 'alarm', 'linkage', 'device']);
    expect(s.got[0]![1]).toBe(forced);
  });

  it('merges further updates of one alarm within a window into its latest state', async () => {
    const { c, count } = setup();
    const s = sink();
    c.add(s);
    c.send(s, 'alarm', alarm('a1', 1));
    for (let k = 2; k <= 40; k++) c.send(s, 'alarm', alarm('a1', k));
    c.send(s, 'alarm', alarm('a2', 1));
    // a1's first message and a2's (a new alarm) went at once; a1's 39 updates wait.
    expect(s.got.map(([, m]) => [(m as LiveMessages['alarm']).id, (m as LiveMessages['alarm']).count])).toEqual([
      ['a1', 1],
      ['a2', 1],
    ]);
    c.flush();
    expect(s.got.at(-1)).toEqual(['alarm', alarm('a1', 40)]);
    expect(s.got).toHaveLength(3);
    expect(await count('merged_alarm')).toBe(38);
    // Updated in the last flush: the next update still waits one window...
    c.send(s, 'alarm', alarm('a1', 41, 'acknowledged'));
    expect(s.got).toHaveLength(3);
    c.flush();
    expect(s.got.at(-1)).toEqual(['alarm', alarm('a1', 41, 'acknowledged')]);
    // ...and after a quiet window an update goes at once again.
    c.flush();
    c.send(s, 'alarm', alarm('a1', 42, 'acknowledged'));
    expect(s.got.at(-1)).toEqual(['alarm', alarm('a1', 42, 'acknowledged')]);
  });

  it('holds a batch while the connection is busy, still bounded, and counts what it drops', async () => {
    const { c, count } = setup(5);
    const s = sink();
    c.add(s);
    s.busyNow = true;
    for (let i = 0; i < 4; i++) c.send(s, 'event', ev('door.opened'));
    c.flush();
    expect(s.got).toEqual([]);
    for (let i = 0; i < 4; i++) c.send(s, 'event', ev('door.opened'));
    // An alarm is never held for a busy connection.
    c.send(s, 'alarm', alarm('a9', 1));
    expect(s.got).toHaveLength(1);
    s.busyNow = false;
    c.flush();
    const batch = s.got[1]![1] as LiveMessages['events'];
    expect(batch.events).toHaveLength(5);
    expect(batch.skipped).toBe(3);
    expect(await count('held_busy')).toBe(1);
  });

  it('keeps clients apart and forgets a removed one', () => {
    const { c } = setup(5);
    const a = sink();
    const b = sink();
    c.add(a);
    c.add(b);
    c.send(a, 'event', ev('door.opened'));
    c.flush();
    expect(a.got).toHaveLength(1);
    expect(b.got).toEqual([]);
    c.remove(a);
    // Not coalesced (any more): passed straight through.
    c.send(a, 'event', ev('door.opened'));
    expect(a.got).toHaveLength(2);
    expect(a.got[1]![0]).toBe('event');
  });
});
