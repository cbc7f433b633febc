import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { PNG } from 'pngjs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { gatewayTopic } from '@warden/contract';
import { Gallery } from '@warden/edge/face/gallery.ts';
import { GallerySyncClient } from '@warden/edge/face/sync.ts';
import { saveGallery } from '@warden/edge/face/store.ts';
import { FacePipeline, decodeImage, type RgbImage } from '@warden/models';
import { MODELS_ROOT, packageDir } from '@warden/models/paths.ts';
import { connectGateway, status } from '../../hub/test/helpers.ts';

/** Labelled face crops (../shared/faces), present on developer machines; tests using them skip without. */
export const FACES_DIR = process.env.WARDEN_FACES_DIR ? path.resolve(process.env.WARDEN_FACES_DIR) : path.resolve(MODELS_ROOT, '..', '..', 'shared', 'faces');
export const HAVE_FACES = existsSync(path.join(FACES_DIR, 'amy'));

function encodePng(img: RgbImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  for (let i = 0, j = 0; i < img.width * img.height; i++) {
    png.data[j++] = img.data[i * 3]!;
    png.data[j++] = img.data[i * 3 + 1]!;
    png.data[j++] = img.data[i * 3 + 2]!;
    png.data[j++] = 255;
  }
  return PNG.sync.write(png);
}

function crop(img: RgbImage, x0: number, y0: number, w: number, h: number): RgbImage {
  const x = Math.max(0, Math.round(x0));
  const y = Math.max(0, Math.round(y0));
  const cw = Math.min(img.width - x, Math.round(w));
  const ch = Math.min(img.height - y, Math.round(h));
  const out = new Uint8Array(cw * ch * 3);
  for (let r = 0; r < ch; r++) out.set(img.data.subarray(((y + r) * img.width + x) * 3, ((y + r) * img.width + x + cw) * 3), r * cw * 3);
  return { width: cw, height: ch, data: out };
}

/**
 * One-person photos cut from a group photo shipped in @vladmandic/face-api (demo/sample3.jpg: three people,
 * all passing the quality gate), so enrolment runs on real faces on every machine.
 */
export async function packageFacePhotos(pipeline: FacePipeline): Promise<Buffer[]> {
  const img = decodeImage(readFileSync(path.join(packageDir('@vladmandic/face-api'), 'demo', 'sample3.jpg')));
  const faces = (await pipeline.analyse(img)).filter((f) => f.quality.ok);
  return faces.map((f) => {
    const m = f.box.width * 0.6;
    return encodePng(crop(img, f.box.x - m, f.box.y - m, f.box.width + 2 * m, f.box.height + 2 * m));
  });
}

/** A gateway as the edge agent runs it: real MQTT client, edge gallery + sync client, status with the version held. */
export interface SyncedGateway {
  gw: string;
  gallery: Gallery;
  sync: GallerySyncClient;
  client: MqttClient;
  received: number;
  close(): Promise<void>;
}

export async function syncedGateway(mqttUrl: string, gw: string, password: string, prior?: SyncedGateway): Promise<SyncedGateway> {
  const dir = await mkdtemp(path.join(tmpdir(), `warden-face-gw-${gw}-`));
  const key = Buffer.alloc(32, 7);
  const gallery = prior?.gallery ?? new Gallery(128);
  const file = path.join(dir, 'gallery.bin');
  const sync =
    prior?.sync ??
    new GallerySyncClient({
      gatewayId: gw,
      gallery,
      model: 'faceapi-recognition',
      save: () => saveGallery(file, gallery, key),
      stateFile: path.join(dir, 'gallery.sync.json'),
      refuse: () => {},
      registry: new Registry(),
      logger: pino({ enabled: false }),
    });
  const client = await connectGateway(mqttUrl, gw, password);
  const g: SyncedGateway = {
    gw,
    gallery,
    sync,
    client,
    received: 0,
    close: async () => {
      await client.endAsync();
    },
  };
  const announce = () => client.publishAsync(gatewayTopic(gw, 'status'), status(gw, 'online', { gallery: sync.status() }), { qos: 1, retain: true });
  client.on('message', (topic, payload) => {
    if (topic !== gatewayTopic(gw, 'gallery')) return;
    g.received++;
    void sync.handle(payload).then((r) => (r === 'applied' ? announce() : undefined));
  });
  await client.subscribeAsync(gatewayTopic(gw, 'gallery'), { qos: 1 });
  await announce();
  return g;
}
