import { describe, expect, it } from 'vitest';
import { changedTo, command, event, flag, lockControl, okReply, resultReply, telemetry, transitions } from '../src/driver-kit.ts';

describe('driver kit', () => {
  it('okReply and resultReply decode replies, with the fallback error when a refusal gives none', () => {
    expect(okReply('refused').reply({ ref: 'c1', ok: true } as never)).toEqual({ ref: 'c1', ok: true, error: undefined });
    expect(okReply('refused').reply({ ref: 'c1', ok: false } as never)).toEqual({ ref: 'c1', ok: false, error: 'refused' });
    expect(okReply('refused').reply({ ref: 'c1', ok: false, err: 'jammed' } as never)).toMatchObject({ ok: false, error: 'jammed' });
    expect(resultReply('ERROR').reply({ ref: 'c2', result: 'OK' } as never)).toEqual({ ref: 'c2', ok: true, error: undefined });
    expect(resultReply('ERROR').reply({ ref: 'c2', result: 'ERROR', msg: 'no power' } as never)).toMatchObject({ ok: false, error: 'no power' });
  });

  it('command puts the device id in the topic and the ref in the payload', () => {
    const set = command<'actuator.set'>('relay/{id}/set', (p) => ({ on: p.on }));
    expect(set({ on: true }, { id: 'r-1', options: {}, ref: 'cmd-9' })).toEqual({ topic: 'relay/r-1/set', payload: { on: true, ref: 'cmd-9' } });
  });

  it('lockControl: unlock with the command seconds, else the device option; lock', () => {
    const lock = lockControl<{ unlockSeconds: number }>('acs/{id}/control');
    const ctx = { id: 'd-1', options: { unlockSeconds: 7 }, ref: 'c' };
    expect(lock['door.unlock']!({}, ctx)).toEqual({ topic: 'acs/d-1/control', payload: { op: 'UNLOCK', seconds: 7, ref: 'c' } });
    expect(lock['door.unlock']!({ seconds: 3 }, ctx).payload).toMatchObject({ seconds: 3 });
    expect(lock['door.lock']!({}, ctx)).toEqual({ topic: 'acs/d-1/control', payload: { op: 'LOCK', ref: 'c' } });
  });

  it('transitions: events on change only, a first true is reported, a first false is not', () => {
    type M = { motion: boolean; fault?: string };
    const t = transitions({
      motion: flag<M>((m) => m.motion, { raised: (_m, ts) => event('intrusion.alarm', {}, ts), cleared: () => event('intrusion.tamper', {}) }),
      fault: changedTo<M, string>((m) => m.fault ?? null, (fault) => event('fire.fault', { fault })),
    });
    const s = t.initialState();
    expect(s).toEqual({ motion: undefined, fault: undefined });
    expect(t.events({ motion: false }, s, 1)).toEqual([]);
    expect(t.events({ motion: true }, s, 2)).toEqual([{ kind: 'event', type: 'intrusion.alarm', data: {}, ts: 2 }]);
    expect(t.events({ motion: true }, s, 3)).toEqual([]);
    expect(t.events({ motion: false, fault: 'E1' }, s, 4).map((e) => (e.kind === 'event' ? e.type : e.kind))).toEqual(['intrusion.tamper', 'fire.fault']);
    expect(t.events({ motion: false, fault: 'E1' }, s, 5)).toEqual([]);
    expect(t.events({ motion: false, fault: 'E2' }, s, 6)).toHaveLength(1);
    const fresh = t.initialState();
    expect(t.events({ motion: true }, fresh, 7)).toHaveLength(1); // an alarm during a restart is not missed
  });

  it('telemetry', () => {
    expect(telemetry({ power_kw: 1 }, 5)).toEqual({ kind: 'telemetry', metrics: { power_kw: 1 }, ts: 5 });
  });
});
