import { describe, expect, it } from 'vitest';
import { driverHarness } from '../helpers.ts';

describe('meter driver', () => {
  const s = 1_764_388_800;

  it('power: kWh register and kW', () => {
    const h = driverHarness('meter', { medium: 'power' }, 'pm-lib-main');
    try {
      expect(h.send('meter/pm-lib-main/reading', { total: 12345.67, instant: 3.2, ts: s })).toEqual([
        { device: 'pm-lib-main', ts: s * 1000, kind: 'telemetry', metrics: { energy_kwh: 12345.67, power_kw: 3.2 } },
      ]);
    } finally {
      h.close();
    }
  });

  it.each(['water', 'gas'])('%s: m³ register and m³/h', (medium) => {
    const h = driverHarness('meter', { medium }, 'wm-dorm-1');
    try {
      expect(h.send('meter/wm-dorm-1/reading', { total: 881.2, instant: 0.6, ts: s })).toEqual([
        { device: 'wm-dorm-1', ts: s * 1000, kind: 'telemetry', metrics: { volume_m3: 881.2, flow_m3h: 0.6 } },
      ]);
      expect(h.send('meter/wm-dorm-1/reading', { total: 881.3, ts: s + 60 })).toEqual([
        { device: 'wm-dorm-1', ts: (s + 60) * 1000, kind: 'telemetry', metrics: { volume_m3: 881.3 } },
      ]);
    } finally {
      h.close();
    }
  });

  it('refuses bad native payloads with a counted reason', () => {
    const h = driverHarness('meter', { medium: 'gas' }, 'gm-1');
    try {
      expect(h.send('meter/gm-1/reading', { instant: 1 })).toEqual([]);
      expect(h.send('meter/gm-1/reading', { total: -5 })).toEqual([]);
      expect(h.send('meter/gm-1/reading', { total: '12' })).toEqual([]);
      expect(h.rejected('schema_invalid')).toBe(3);
      expect(h.send('meter/gm-1/reading', '{total: 1}')).toEqual([]);
      expect(h.rejected('malformed_json')).toBe(1);
    } finally {
      h.close();
    }
  });
});
