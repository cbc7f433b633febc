import { describe, expect, it } from 'vitest';
import {
  RateLimitedLog,
  gatewayTopic,
  newId,
  parseGatewayTopic,
  parseJson,
  validateBatchEnvelope,
  validateCommand,
  validateRecord,
} from '../src/index.ts';

const base = { id: newId(), seq: 1, device: 'door-a1', ts: Date.now() };

describe('topics', () => {
  it('round-trips gateway topics and refuses anything else', () => {
    expect(gatewayTopic('gw-lib', 'up')).toBe('warden/v1/gw/gw-lib/up');
    expect(parseGatewayTopic('warden/v1/gw/gw-lib/cmd')).toEqual({ gatewayId: 'gw-lib', channel: 'cmd' });
    expect(parseGatewayTopic('warden/v1/gw/+/up')).toBeNull();
    expect(parseGatewayTopic('warden/v1/gw/gw-lib/up/extra')).toBeNull();
    expect(parseGatewayTopic('warden/v2/gw/gw-lib/up')).toBeNull();
    expect(() => gatewayTopic('../x', 'up')).toThrow(/invalid gateway id/);
  });
});

describe('records', () => {
  it('accepts a valid event and telemetry record', () => {
    expect(validateRecord({ ...base, kind: 'event', type: 'door.forced', data: { door: 1 } }).ok).toBe(true);
    expect(validateRecord({ ...base, kind: 'telemetry', metrics: { energy_kwh: 12.5 } }).ok).toBe(true);
  });

  it('names the path of what is wrong', () => {
    const r = validateRecord({ ...base, kind: 'event', type: 'turnstile.pass', data: { direction: 'sideways', granted: true } });
    expect(r).toMatchObject({ ok: false, reason: 'schema_invalid' });
    if (!r.ok) expect(r.detail).toContain('/direction');
    const extra = validateRecord({ ...base, kind: 'event', type: 'door.forced', data: {}, bogus: 1 });
    expect(extra.ok || extra.detail).toContain('bogus');
  });

  it('refuses event types outside the contract', () => {
    expect(validateRecord({ ...base, kind: 'event', type: 'door.exploded', data: {} })).toMatchObject({ ok: false, reason: 'unknown_type' });
  });

  it('validates the batch envelope', () => {
    expect(validateBatchEnvelope({ v: 1, gw: 'gw-a', records: [{}] }).ok).toBe(true);
    expect(validateBatchEnvelope({ v: 2, gw: 'gw-a', records: [{}] })).toMatchObject({ ok: false, reason: 'schema_invalid' });
    expect(validateBatchEnvelope({ v: 1, gw: 'gw-a', records: [] }).ok).toBe(false);
  });

  it('reports malformed JSON instead of throwing', () => {
    expect(parseJson('{"a":')).toMatchObject({ ok: false, reason: 'malformed_json' });
    expect(parseJson(Buffer.from('{"a":1}'))).toEqual({ ok: true, value: { a: 1 } });
  });
});

describe('commands', () => {
  it('validates params per action', () => {
    const cmd = { v: 1, id: newId(), device: 'ts-1', action: 'turnstile.set_mode', params: { mode: 'free' }, ts: Date.now() };
    expect(validateCommand(cmd).ok).toBe(true);
    expect(validateCommand({ ...cmd, params: { mode: 'fly' } })).toMatchObject({ ok: false, reason: 'schema_invalid' });
    expect(validateCommand({ ...cmd, action: 'launch' })).toMatchObject({ ok: false, reason: 'unknown_type' });
  });
});

describe('ids', () => {
  it('are unique and sort by time', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId()));
    expect(ids.size).toBe(10_000);
    expect(newId(1_000) < newId(2_000)).toBe(true);
    expect(newId()).toMatch(/^[0-9A-Z]{26}$/);
  });
});

describe('RateLimitedLog', () => {
  it('logs once per reason per interval and reports what it suppressed', () => {
    let t = 0;
    const lines: Record<string, unknown>[] = [];
    const log = new RateLimitedLog({ warn: (o) => lines.push(o) }, 1000, () => t);
    for (let i = 0; i < 5; i++) log.warn('malformed_json', {}, 'bad');
    log.warn('oversized', {}, 'big');
    t = 1500;
    log.warn('malformed_json', {}, 'bad');
    expect(lines).toEqual([{ reason: 'malformed_json' }, { reason: 'oversized' }, { reason: 'malformed_json', suppressed: 4 }]);
  });
});
