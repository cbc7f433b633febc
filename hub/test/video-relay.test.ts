import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIDEO_CLOSE, videoPath } from '@warden/contract';
import { eventually, login, metric, testHub, type TestHub } from './helpers.ts';
import { cameraServer, hasFfmpeg, relayFfmpegs, view } from './video-helpers.ts';

if (!hasFfmpeg) console.warn('skipping the live video relay test: ffmpeg is not installed (apt-get install ffmpeg)');

describe.skipIf(!hasFfmpeg)('live video relay: viewers come and go, no ffmpeg is left', () => {
  let cam: Awaited<ReturnType<typeof cameraServer>>;
  let t: TestHub;
  let guard: string;
  let wsBase: string;

  beforeAll(async () => {
    cam = await cameraServer();
    const src = (name: string) => ({ url: `http://127.0.0.1:${cam.port}/${name}` });
    t = await testHub({
      video: {
        maxStreams: 2,
        width: 160,
        height: 120,
        cameras: { 'cam-a': src('a'), 'cam-b': src('b'), 'cam-c': src('c'), 'cam-dead': { url: 'http://127.0.0.1:1/never' } },
      },
      users: [
        { username: 'guard', roles: ['security'], password: 'guard-password-1' },
        { username: 'meter', roles: ['facilities'], password: 'meter-password-1' },
      ],
    });
    guard = await login(t.hub, 'guard', 'guard-password-1');
    wsBase = t.hub.httpUrl.replace('http:', 'ws:');
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    if (cam) {
      expect(relayFfmpegs(cam.port)).toEqual([]);
      for (const s of cam.sources) s.kill('SIGKILL');
      await new Promise((r) => cam.server.close(r));
    }
  });

  const url = (camera: string, token: string | null = guard) => `${wsBase}${videoPath(camera)}${token ? `?token=${encodeURIComponent(token)}` : ''}`;

  it('two viewers share one ffmpeg; it ends when the last one closes', { timeout: 60_000 }, async () => {
    const a = view(url('cam-a'));
    const b = view(url('cam-a'));
    await eventually(() => a.bytes > 8_000 && b.bytes > 8_000, 'video bytes at both viewers', 30_000);
    expect(a.badFrames + b.badFrames).toBe(0);
    expect(relayFfmpegs(cam.port)).toHaveLength(1);
    expect(await metric(t.hub, 'warden_hub_video_viewers')).toBe(2);

    a.ws.close();
    await a.closed;
    const before = b.bytes;
    await eventually(() => b.bytes > before + 2_000, 'video still flowing to the remaining viewer', 15_000);
    expect(relayFfmpegs(cam.port)).toHaveLength(1);

    b.ws.close();
    await b.closed;
    await eventually(() => relayFfmpegs(cam.port).length === 0, 'the relay ffmpeg gone', 10_000);
    expect(await metric(t.hub, 'warden_hub_video_streams')).toBe(0);
  });

  it('a viewer that drops its connection without a close frame, and one that closes before the first byte, leave nothing running', { timeout: 60_000 }, async () => {
    const a = view(url('cam-b'));
    await eventually(() => a.bytes > 0, 'video bytes', 30_000);
    a.ws.terminate();
    await eventually(() => relayFfmpegs(cam.port).length === 0, 'the relay ffmpeg gone after a dropped connection', 10_000);

    // Open and close at once, five times: each a start and a stop racing the ffmpeg start.
    for (let i = 0; i < 5; i++) {
      const v = view(url('cam-b'));
      await new Promise<void>((r) => v.ws.once('open', () => r()));
      v.ws.close();
      await v.closed;
    }
    await eventually(() => relayFfmpegs(cam.port).length === 0, 'no relay ffmpeg after five quick open/close', 10_000);
  });

  it('refusals: no token, a role without cameras, an unknown camera, the stream cap — each a close code and a counter, no ffmpeg', { timeout: 60_000 }, async () => {
    const meter = await login(t.hub, 'meter', 'meter-password-1');
    expect(await view(url('cam-a', null)).closed).toMatchObject({ code: VIDEO_CLOSE.unauthorized });
    expect(await view(url('cam-a', 'not-a-token')).closed).toMatchObject({ code: VIDEO_CLOSE.unauthorized });
    expect(await view(url('cam-a', meter)).closed).toMatchObject({ code: VIDEO_CLOSE.forbidden });
    expect(await view(url('cam-nowhere')).closed).toMatchObject({ code: VIDEO_CLOSE.unknownCamera });
    expect(relayFfmpegs(cam.port)).toEqual([]);

    const a = view(url('cam-a'));
    const b = view(url('cam-b'));
    await eventually(() => a.bytes > 0 && b.bytes > 0, 'two streams', 30_000);
    const third = await view(url('cam-c')).closed;
    expect(third.code).toBe(VIDEO_CLOSE.streamLimit);
    expect(third.reason).toMatch(/limit reached: 2/);
    expect(relayFfmpegs(cam.port)).toHaveLength(2);
    a.ws.close();
    b.ws.close();
    await eventually(() => relayFfmpegs(cam.port).length === 0, 'both relay ffmpegs gone', 10_000);

    expect(await metric(t.hub, 'warden_hub_video_refused_total', { reason: 'unauthorized' })).toBe(2);
    expect(await metric(t.hub, 'warden_hub_video_refused_total', { reason: 'forbidden' })).toBe(1);
    expect(await metric(t.hub, 'warden_hub_video_refused_total', { reason: 'unknown_camera' })).toBe(1);
    expect(await metric(t.hub, 'warden_hub_video_refused_total', { reason: 'stream_limit' })).toBe(1);
  });

  it('a camera that cannot be pulled: the viewer is told (4502) after three tries, counted, nothing left running', { timeout: 60_000 }, async () => {
    const v = view(url('cam-dead'));
    const closed = await v.closed;
    expect(closed.code).toBe(VIDEO_CLOSE.upstream);
    expect(closed.reason).toMatch(/camera stream unavailable/);
    expect(closed.reason).not.toMatch(/password/);
    expect(await metric(t.hub, 'warden_hub_video_upstream_closed_total')).toBe(1);
    expect(await metric(t.hub, 'warden_hub_video_upstream_failures_total')).toBe(2);
    expect(await metric(t.hub, 'warden_hub_video_streams')).toBe(0);
  });
});
