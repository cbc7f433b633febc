import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseHubConfig } from '../src/config.ts';
import { testHub } from './helpers.ts';

function errorsOf(obj: unknown): string[] {
  try {
    parseHubConfig(obj);
  } catch (err) {
    if (err instanceof ConfigError) return err.errors;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('hub config: video', () => {
  it('defaults: no cameras, a cap of 16, snapshots on alarm and face with a timeout and size cap', () => {
    const v = parseHubConfig({}).video;
    expect(v).toMatchObject({ maxStreams: 16, width: 640, height: 360, fps: 25, transport: 'tcp', cameras: {} });
    expect(v.snapshots).toMatchObject({ onAlarm: true, onFace: true, faceCameras: {}, timeoutSeconds: 8, concurrency: 4 });
  });

  it('names each mistake with its path', () => {
    const errors = errorsOf({
      video: {
        maxStreams: 0,
        fps: 10,
        cameras: {
          'cam-a': { url: 'ftp://x/stream' },
          'cam-b': {},
          'cam-c': { url: 'rtsp://10.0.0.1/s', password: 'p' },
          'cam-d': { url: 'rtsp://10.0.0.1/s' },
        },
        snapshots: { faceCameras: { 'face-1': 'cam-d' } },
        surprise: true,
      },
    }).join('\n');
    expect(errors).toMatch(/\/video\/maxStreams/);
    expect(errors).toMatch(/\/video\/fps/);
    expect(errors).toMatch(/\/video\/cameras\/cam-a\/url/);
    expect(errors).toMatch(/surprise/);
    const valid = errorsOf({
      video: { cameras: { 'cam-b': {}, 'cam-c': { url: 'rtsp://10.0.0.1/s', password: 'p' }, 'cam-d': { url: 'rtsp://10.0.0.1/s' } }, snapshots: { faceCameras: { 'face-1': 'cam-d' } } },
    }).join('\n');
    expect(valid).toMatch(/\/video\/cameras\/cam-b: give `url` \(live video\) or `onvif` \(snapshots\)/);
    expect(valid).toMatch(/\/video\/cameras\/cam-c: a password without a username/);
    expect(valid).toMatch(/\/video\/snapshots\/faceCameras\/face-1: camera cam-d has no `onvif` service/);
  });

  it('a hub with session 2’s <dataDir>/video.yaml refuses to start and says where the sources go now', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-video-legacy-'));
    try {
      await writeFile(join(dir, 'video.yaml'), 'cameras: {}\n', { mode: 0o600 });
      await expect(testHub({}, dir)).rejects.toThrow(/video sources moved to the `video:` section of hub.yaml/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
