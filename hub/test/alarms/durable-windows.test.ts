import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DENIED_CAP } from '../../src/alarms/rules/repeated-denied.ts';
import type { DurableMap } from '../../src/alarms/types.ts';
import { boundWindow } from '../../src/alarms/window.ts';
import { alarmHarness, type Harness } from './harness.ts';

const H = 3_600_000;
const entry = (credential: string) => ({ direction: 'in', credential, granted: true });
const denied = (credential?: string) => ({ method: 'card', reason: 'unknown_card', ...(credential ? { credential } : {}) });
const rows = (h: Harness, rule: string) => h.repo.ruleStates().filter((r) => r.rule === rule);

/**
 * The windows of anti-passback and repeated-denied survive a hub restart (a new engine on the same SQLite file, the
 * test's clock): a restart in the middle of the window still raises; after the window it does not. Their durable
 * state stays bounded (swept past the window, capped under a flood).
 */
describe('durable rule windows across a hub restart', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  it('anti-passback: an entry before the restart and one after it, within the window, raise', async () => {
    h.event('ts-1', 'turnstile.pass', entry('card-7'));
    const first = h.now;
    h.advance(2 * H);
    await h.restart();
    h.advance(2 * H);
    h.event('door-1', 'access.granted', { method: 'card', ...entry('card-7') });
    expect(h.only('turnstile.antipassback')).toMatchObject({ credential: 'card-7', device: 'door-1' });
    expect(h.repo.timeline(h.only('turnstile.antipassback').id)[0]!.detail).toMatchObject({ previousEntryAt: first });
  });

  it('anti-passback: an exit before the restart, or the second entry past the 12 h window, stay quiet', async () => {
    h.event('ts-1', 'turnstile.pass', entry('card-1'));
    h.event('ts-1', 'turnstile.pass', { ...entry('card-1'), direction: 'out' });
    h.event('ts-1', 'turnstile.pass', entry('card-2'));
    await h.restart();
    h.advance(H);
    h.event('ts-1', 'turnstile.pass', entry('card-1'));
    h.advance(12 * H);
    h.event('ts-1', 'turnstile.pass', entry('card-2'));
    expect(h.all()).toEqual([]);
  });

  it('anti-passback keeps only open entries, swept once past the window', async () => {
    for (let i = 0; i < 100; i++) h.event('ts-1', 'turnstile.pass', entry(`c-${i}`));
    for (let i = 0; i < 40; i++) h.event('ts-1', 'turnstile.pass', { ...entry(`c-${i}`), direction: 'out' });
    expect(rows(h, 'turnstile-antipassback')).toHaveLength(60);
    await h.restart();
    h.advance(12 * H + 61_000);
    expect(rows(h, 'turnstile-antipassback')).toHaveLength(0);
  });

  it('repeated-denied: three denials before the restart and two after it, within 60 s, raise', async () => {
    for (let i = 0; i < 3; i++) h.event('door-1', 'access.denied', denied('card-x'), h.now + i * 10_000);
    await h.restart();
    h.event('door-2', 'access.denied', denied('card-x'), h.now + 35_000);
    expect(h.all()).toEqual([]);
    h.event('door-2', 'access.denied', denied('card-x'), h.now + 45_000);
    expect(h.all().filter((a) => a.credential === 'card-x')).toEqual([expect.objectContaining({ type: 'access.repeated_denied', device: 'door-2' })]);
  });

  it('repeated-denied: four denials before the restart and one after the window stay quiet', async () => {
    for (let i = 0; i < 4; i++) h.event('door-1', 'access.denied', denied('card-y'), h.now + i * 1000);
    await h.restart();
    h.advance(61_000);
    h.event('door-1', 'access.denied', denied('card-y'));
    expect(h.all()).toEqual([]);
  });

  it('repeated-denied keeps only denials inside its window, swept once past it', async () => {
    for (let i = 0; i < 50; i++) h.event(`door-${(i % 2) + 1}`, 'access.denied', denied(`one-off-${i}`), h.now + i * 100);
    // One row per credential; each door crossed the threshold five times (its window restarts at each alarm).
    expect(rows(h, 'repeated-denied').filter((r) => r.key.startsWith('c:'))).toHaveLength(50);
    expect(h.all().filter((a) => a.type === 'access.repeated_denied')).toHaveLength(2);
    await h.restart();
    h.advance(121_000);
    expect(rows(h, 'repeated-denied')).toHaveLength(0);
  });
});

describe('boundWindow (the cap under a flood of one-off credentials)', () => {
  it('drops expired entries, then the oldest live ones down to 90 % of the cap', () => {
    const m = new Map<string, number>();
    const writes: string[] = [];
    const durable: DurableMap<number> = {
      get: (k) => m.get(k),
      has: (k) => m.has(k),
      set: (k, v) => void m.set(k, v),
      delete: (k) => void (m.delete(k) && writes.push(k)),
      get size() {
        return m.size;
      },
      [Symbol.iterator]: () => [...m.entries()][Symbol.iterator](),
    };
    for (let i = 0; i < DENIED_CAP + 10_000; i++) durable.set(`c-${i}`, i);
    // The first 5,000 are past the window; 55,000 live remain, over the cap: the oldest go down to 45,000.
    const evicted = boundWindow(durable, (t) => t, (t) => t < 5_000, DENIED_CAP);
    expect(evicted).toBe(DENIED_CAP + 5_000 - DENIED_CAP * 0.9);
    expect(m.size).toBe(DENIED_CAP * 0.9);
    expect(m.has(`c-${DENIED_CAP + 9_999}`)).toBe(true);
    expect(m.has('c-14999')).toBe(false);
    expect(writes).toHaveLength(DENIED_CAP + 10_000 - DENIED_CAP * 0.9);
  });
});
