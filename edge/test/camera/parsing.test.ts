import { describe, expect, it } from 'vitest';
import { cycleOffset } from '../../src/camera/service.ts';
import { parseNotification } from '../../src/camera/notifications.ts';
import { parseProbeMatch } from '../../src/camera/discovery.ts';

/** Shapes as the `onvif` client hands them over (xml2js + linerase: attributes under `$`, numbers and booleans converted). */
const note = (topic: string, items: Array<[string, unknown]>, op = 'Changed', utc: unknown = new Date('2026-01-02T03:04:05Z')) => ({
  topic: { _: topic, $: { Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet' } },
  message: {
    message: {
      $: { UtcTime: utc, PropertyOperation: op },
      source: { simpleItem: { $: { Name: 'VideoSourceToken', Value: 'vs_1' } } },
      data: { simpleItem: items.length === 1 ? { $: { Name: items[0]![0], Value: items[0]![1] } } : items.map(([Name, Value]) => ({ $: { Name, Value } })) },
    },
  },
});

describe('ONVIF notifications → camera events', () => {
  it('reads motion and tamper across the common topic and item names', () => {
    expect(parseNotification(note('tns1:VideoSource/MotionAlarm', [['State', true]]))).toEqual({ kind: 'motion', state: true, at: Date.parse('2026-01-02T03:04:05Z'), operation: 'Changed' });
    expect(parseNotification(note('tns1:RuleEngine/CellMotionDetector/Motion', [['IsMotion', 'false']]))).toMatchObject({ kind: 'motion', state: false });
    expect(parseNotification(note('tns1:VideoSource/GlobalSceneChange/ImagingService', [['State', 1]], 'Initialized'))).toMatchObject({ kind: 'tamper', state: true, operation: 'Initialized' });
    expect(parseNotification(note('tns1:RuleEngine/TamperDetector/Tamper', [['Rule', 'r1'], ['IsTamper', true]]))).toMatchObject({ kind: 'tamper', state: true });
    expect(parseNotification({ ...note('tns1:VideoSource/MotionAlarm', [['State', true]]), topic: 'tns1:VideoSource/MotionAlarm' })).toMatchObject({ kind: 'motion' });
  });

  it('ignores other topics and unreadable states; a missing time is null', () => {
    expect(parseNotification(note('tns1:Device/Trigger/DigitalInput', [['LogicalState', true]]))).toBeNull();
    expect(parseNotification(note('tns1:VideoSource/MotionAlarm', [['State', 'maybe']]))).toBeNull();
    expect(parseNotification(note('tns1:VideoSource/MotionAlarm', [['Other', true]]))).toBeNull();
    expect(parseNotification({})).toBeNull();
    expect(parseNotification(note('tns1:VideoSource/MotionAlarm', [['State', true]], 'Changed', null))!.at).toBeNull();
  });
});

describe('WS-Discovery answers → proposals', () => {
  it('reads the endpoint, addresses and scopes; refuses answers without an http address', () => {
    const raw = {
      probeMatches: {
        probeMatch: {
          endpointReference: { address: 'urn:uuid:1234' },
          types: 'dn:NetworkVideoTransmitter',
          scopes: 'onvif://www.onvif.org/type/ptz onvif://www.onvif.org/name/%E4%B8%9C%E9%97%A8%20East onvif://www.onvif.org/hardware/DS-2DE',
          XAddrs: 'http://10.0.0.5/onvif/device_service http://[fe80::1]/onvif/device_service',
          metadataVersion: 1,
        },
      },
    };
    expect(parseProbeMatch(raw)).toEqual({ urn: 'urn:uuid:1234', xaddrs: ['http://10.0.0.5/onvif/device_service', 'http://[fe80::1]/onvif/device_service'], name: '东门 East', hardware: 'DS-2DE', ptz: true });
    expect(parseProbeMatch({ probeMatches: { probeMatch: { endpointReference: { address: 'urn:x' }, XAddrs: 'ftp://x' } } })).toBeNull();
    expect(parseProbeMatch(null)).toBeNull();
  });
});

describe('health schedule', () => {
  it('spreads 1,311 cameras over the cycle (no second holds more than a few times its share)', () => {
    const cycle = 60_000;
    const perSecond = new Array(60).fill(0) as number[];
    for (let i = 0; i < 1311; i++) {
      const off = cycleOffset(`cam-${i}`, cycle);
      expect(off).toBeGreaterThanOrEqual(0);
      expect(off).toBeLessThan(cycle);
      perSecond[Math.floor(off / 1000)]!++;
    }
    expect(Math.max(...perSecond)).toBeLessThan((1311 / 60) * 2.5);
    expect(cycleOffset('cam-1', cycle)).toBe(cycleOffset('cam-1', cycle));
  });
});

describe('light probe: GetSystemDateAndTime fast path', () => {
  it('reads the UTC clock with any namespace prefix and misses (for the full client) what it cannot read', async () => {
    const { parseSystemTime, FastPathMiss } = await import('../../src/camera/light-probe.ts');
    const xml = (p: string) =>
      `<env:Envelope><env:Body><tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><${p}LocalDateTime><${p}Time><${p}Hour>9</${p}Hour></${p}Time></${p}LocalDateTime>` +
      `<${p}UTCDateTime><${p}Time><${p}Hour>1</${p}Hour><${p}Minute>2</${p}Minute><${p}Second>3</${p}Second></${p}Time>` +
      `<${p}Date><${p}Year>2026</${p}Year><${p}Month>11</${p}Month><${p}Day>30</${p}Day></${p}Date></${p}UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></env:Body></env:Envelope>`;
    expect(parseSystemTime(xml('tt:')).toISOString()).toBe('2026-11-30T01:02:03.000Z');
    expect(parseSystemTime(xml('')).toISOString()).toBe('2026-11-30T01:02:03.000Z');
    expect(() => parseSystemTime(xml('tt:').replace('<tt:Year>2026</tt:Year>', ''))).toThrow(FastPathMiss);
    expect(() => parseSystemTime(xml('tt:').replace('<tt:Month>11<', '<tt:Month>13<'))).toThrow(FastPathMiss);
    expect(() => parseSystemTime('<s:Fault/>')).toThrow(FastPathMiss);
  });
});
