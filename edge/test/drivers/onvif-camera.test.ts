import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../../src/config.ts';
import { NOW, driverHarness } from '../helpers.ts';

/**
 * The camera driver on the `onvif` transport: the transport (src/transports/onvif.ts, exercised against
 * virtual cameras in deploy/test/cameras-*.test.ts) delivers its findings on native topics; this is the
 * driver's half.
 */
describe('onvif-camera driver', () => {
  let h: ReturnType<typeof driverHarness>;
  const options = { xaddr: 'http://10.1.2.3/onvif/device_service', password: 'secret' };
  beforeEach(() => (h = driverHarness('onvif-camera', options, 'cam-lib-1')));
  afterEach(() => h.close());

  it('turns motion and tamper into camera.motion / camera.tamper at the camera time', () => {
    expect(h.send('onvif/cam-lib-1/event', { kind: 'motion', state: true, ts: NOW - 500 })).toEqual([
      { device: 'cam-lib-1', ts: NOW - 500, kind: 'event', type: 'camera.motion', data: { state: true } },
    ]);
    expect(h.send('onvif/cam-lib-1/event', { kind: 'tamper', state: false })).toEqual([
      { device: 'cam-lib-1', ts: NOW, kind: 'event', type: 'camera.tamper', data: { state: false } },
    ]);
  });

  it('turns probe facts into telemetry', () => {
    expect(h.send('onvif/cam-lib-1/health', { clock_drift_s: -3, ts: NOW })).toEqual([{ device: 'cam-lib-1', ts: NOW, kind: 'telemetry', metrics: { clock_drift_s: -3 } }]);
    expect(h.send('onvif/cam-lib-1/health', { stream_width: 1920, stream_height: 1080, stream_fps: 25 })).toEqual([
      { device: 'cam-lib-1', ts: NOW, kind: 'telemetry', metrics: { stream_width: 1920, stream_height: 1080, stream_fps: 25 } },
    ]);
    expect(h.send('onvif/cam-lib-1/health', {})).toEqual([]);
  });

  it('turns the health report into camera.health (what the hub camera status reads)', () => {
    expect(h.send('onvif/cam-lib-1/status', { drift_s: 42, width: 1920, height: 1080, fps: 25, codec: 'H264', ts: NOW - 10 })).toEqual([
      { device: 'cam-lib-1', ts: NOW - 10, kind: 'event', type: 'camera.health', data: { drift_s: 42, width: 1920, height: 1080, fps: 25, codec: 'H264' } },
    ]);
    expect(h.send('onvif/cam-lib-1/status', { drift_s: 1.5 })).toEqual([]);
  });

  it('encodes camera.goto_preset and maps the transport’s reply', () => {
    expect(h.encode('camera.goto_preset', { preset: 'Gate' }, 'CMDREF100')).toEqual({ topic: 'onvif/cam-lib-1/goto_preset', payload: { preset: 'Gate', ref: 'CMDREF100' } });
    h.send('onvif/cam-lib-1/reply', { ref: 'CMDREF100', ok: false, err: 'camera cam-lib-1 has no preset Gate' });
    expect(h.replies).toEqual([{ ref: 'CMDREF100', ok: false, error: 'camera cam-lib-1 has no preset Gate' }]);
  });

  it('refuses bad native payloads with a counted reason', () => {
    expect(h.send('onvif/cam-lib-1/event', { kind: 'smoke', state: true })).toEqual([]);
    expect(h.send('onvif/cam-lib-1/health', { clock_drift_s: 'late' })).toEqual([]);
    expect(h.rejected('schema_invalid')).toBe(2);
  });

  it('needs an http(s) device address and a password; fills the probe defaults', () => {
    expect(() => parseEdgeConfig({ gateway: { id: 'gw' }, devices: [{ id: 'cam-1', driver: 'onvif-camera', options: { xaddr: 'ftp://x', password: 'p' } }] })).toThrow(/xaddr/);
    expect(() => parseEdgeConfig({ gateway: { id: 'gw' }, devices: [{ id: 'cam-1', driver: 'onvif-camera', options: { xaddr: 'http://x/onvif/device_service' } }] })).toThrow(/password/);
    const c = parseEdgeConfig({ gateway: { id: 'gw' }, devices: [{ id: 'cam-1', driver: 'onvif-camera', options }] });
    expect(c.devices[0]!.options).toMatchObject({ username: 'admin', probeSeconds: 60, offlineAfter: 2, events: true });
  });
});
