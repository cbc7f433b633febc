import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '@warden/contract';
import { alarmHarness, type Harness } from './harness.ts';

const sent = (h: Harness) => h.published.map((p) => JSON.parse(p.payload) as Command);
const released = (h: Harness) => sent(h).map((c) => `${c.device} ${c.action}`).sort();
/** The gateway answers every command sent so far that it has not answered yet (ok), as its outbox would deliver. */
const answer = (h: Harness, done: Set<string>) => {
  for (const c of sent(h)) {
    if (done.has(c.id)) continue;
    done.add(c.id);
    h.event(c.device, 'command.result', { command: c.id, action: c.action, ok: true });
  }
};
const ALL = ['door-1 door.hold_open', 'door-2 door.hold_open', 'ts-1 turnstile.set_mode'];

/**
 * The linkage journal: the linkage an alarm needs is recorded in the alarm's commit and finished by its command
 * results; a restarted hub (a new engine on the same SQLite file) re-runs what was not finished, once.
 */
describe('linkage resumed by a restarted hub', () => {
  let h: Harness;
  const answered = new Set<string>();
  beforeEach(async () => {
    answered.clear();
    h = await alarmHarness({ linkage: [{ type: 'fire.alarm', building: 'lib', holdOpen: 'all', turnstiles: 'free', cameras: true }] });
  });
  afterEach(() => h.close());

  it('linkage that could not be handed over (gateway not connected) is sent by the restarted hub, once, audited and on the timeline', async () => {
    h.connected = false;
    h.event('smoke-1', 'fire.alarm');
    await h.engine.idle();
    expect(h.published).toEqual([]);
    const fire = h.only('fire.alarm');
    expect(h.repo.linkageJournal(fire.id)).toMatchObject({ state: 'pending', done: [], sent: {} });
    h.advance(4000);
    h.connected = true;
    await h.restart();
    expect(released(h)).toEqual(ALL);
    const resumed = h.repo.timeline(fire.id).filter((t) => t.kind === 'linkage.command' && t.detail!.resumed === true);
    expect(resumed.map((t) => t.detail!.device).sort()).toEqual(['door-1', 'door-2', 'ts-1']);
    expect(h.audit.list(100).filter((e) => e.action === 'linkage.resume')).toEqual([
      expect.objectContaining({ actor: 'system:linkage', target: fire.id, detail: expect.objectContaining({ commands: 3 }) }),
    ]);
    expect(h.emitted.at(-1)).toMatchObject({ id: fire.id });
    answer(h, answered);
    expect(h.repo.linkageJournal(fire.id)).toMatchObject({ state: 'done', resumed: 1 });
    expect(h.repo.timeline(fire.id).filter((t) => t.kind === 'linkage.result' && t.detail!.ok === true)).toHaveLength(3);
    // Finished: a further restart (or a gateway subscribing again) sends nothing.
    await h.restart();
    h.engine.gatewayReady('gw-1');
    await h.engine.idle();
    expect(h.published).toHaveLength(3);
  });

  it('linkage whose results came is not sent again after a restart', async () => {
    h.event('smoke-1', 'fire.alarm');
    await h.engine.idle();
    answer(h, answered);
    expect(h.repo.linkageJournal(h.only('fire.alarm').id)).toMatchObject({ state: 'done' });
    await h.restart();
    h.advance(60_000);
    await h.engine.idle();
    expect(released(h)).toEqual(ALL);
    expect(h.audit.list(100).filter((e) => e.action === 'linkage.resume')).toEqual([]);
    // Finished rows are pruned after a week (the timeline keeps what the linkage did).
    h.advance(8 * 86_400_000);
    expect(h.repo.linkageJournal(h.only('fire.alarm').id)).toBeNull();
  });

  it('commands handed over but unanswered at the kill: a late result finishes its device; the rest is resent after the ttl', async () => {
    h.event('smoke-1', 'fire.alarm');
    await h.engine.idle();
    const first = sent(h);
    const fire = h.only('fire.alarm');
    expect(Object.keys(h.repo.linkageJournal(fire.id)!.sent)).toHaveLength(3);
    h.advance(2000);
    await h.restart();
    // Within the commands' ttl (30 s) the restarted hub waits: the gateway may still act on them.
    expect(h.published).toHaveLength(3);
    // door-1's result was in the gateway's outbox: it lands on the alarm's timeline and finishes door-1.
    const d1 = first.find((c) => c.device === 'door-1')!;
    h.event('door-1', 'command.result', { command: d1.id, action: d1.action, ok: true });
    answered.add(d1.id);
    expect(h.repo.timeline(fire.id).find((t) => t.kind === 'linkage.result')).toMatchObject({ detail: { commandId: d1.id, ok: true } });
    h.advance(30_000);
    await h.engine.idle();
    expect(h.published).toHaveLength(3);
    h.advance(4000); // past ttl + 5 s grace
    await h.engine.idle();
    expect(sent(h).slice(3).map((c) => `${c.device} ${c.action}`).sort()).toEqual(['door-2 door.hold_open', 'ts-1 turnstile.set_mode']);
    answer(h, answered);
    h.advance(60_000);
    await h.engine.idle();
    expect(h.published).toHaveLength(5);
    expect(h.repo.linkageJournal(fire.id)).toMatchObject({ state: 'done' });
  });

  it('a gateway that subscribes again gets the pending linkage without a restart; a resolved alarm is not resumed', async () => {
    h.connected = false;
    h.event('smoke-1', 'fire.alarm');
    h.event('smoke-1', 'fire.fault', { fault: 'loop' }); // no linkage configured for fire.trouble
    await h.engine.idle();
    h.connected = true;
    h.engine.gatewayReady('gw-1');
    await h.engine.idle();
    expect(released(h)).toEqual(ALL);
    h.engine.gatewayReady('gw-1');
    await h.engine.idle();
    expect(h.published).toHaveLength(3);

    // Another fire, linkage not handed over, resolved by an operator before the hub restarts: not resumed.
    const g = await alarmHarness({ linkage: [{ type: 'fire.alarm', holdOpen: ['door-1'] }] });
    try {
      g.connected = false;
      g.event('smoke-1', 'fire.alarm');
      await g.engine.idle();
      g.engine.resolve(g.only('fire.alarm').id, 'desk', 'false alarm');
      g.connected = true;
      await g.restart();
      expect(g.published).toEqual([]);
      expect(g.repo.linkageJournal(g.only('fire.alarm').id)).toMatchObject({ state: 'done' });
    } finally {
      await g.close();
    }
  });
});
