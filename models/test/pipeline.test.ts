import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeImageAsync } from '../src/image.ts';
import { FacePipeline, similarity } from '../src/pipeline/index.ts';
import { similarityTransform, applyAffine, invertAffine } from '../src/pipeline/warp.ts';
import { detectionWindows } from '../src/pipeline/detect.ts';
import { FACES_DIR, packageSampleImages } from './helpers.ts';

const haveFaces = existsSync(FACES_DIR);
if (!haveFaces) console.warn(`pipeline tests on labelled faces skipped: labelled face photos not found at ${FACES_DIR}`);
const title = (s: string) => (haveFaces ? s : `SKIPPED, ${FACES_DIR} is missing: ${s}`);

describe('geometry', () => {
  it('similarityTransform recovers a known rotation, scale and shift', () => {
    const from = [{ x: 10, y: 20 }, { x: 50, y: 22 }, { x: 30, y: 60 }];
    const m = { a: 1.5 * Math.cos(0.3), b: -1.5 * Math.sin(0.3), c: 1.5 * Math.sin(0.3), d: 1.5 * Math.cos(0.3), tx: 7, ty: -4 };
    const fit = similarityTransform(from, from.map((p) => applyAffine(m, p)));
    for (const k of ['a', 'b', 'c', 'd', 'tx', 'ty'] as const) expect(fit[k]).toBeCloseTo(m[k], 6);
    const back = applyAffine(invertAffine(fit), applyAffine(fit, { x: 3, y: 4 }));
    expect(back.x).toBeCloseTo(3, 6);
  });
  it('large frames get overlapping tiles besides the whole-frame pass; small ones only the whole frame', () => {
    expect(detectionWindows(150, 150, undefined)).toHaveLength(1);
    const w = detectionWindows(1366, 768, undefined);
    expect(w.length).toBeGreaterThan(4);
    for (const t of w.slice(1)) expect(t.x + t.size).toBeLessThanOrEqual(1366);
  });
});

describe('decodeImageAsync (mozjpeg in WebAssembly, the latency path)', () => {
  it('decodes the package JPEGs like jpeg-js up to rounding, and refuses a broken JPEG clearly', async () => {
    for (const f of packageSampleImages()) {
      const bytes = await readFile(f);
      const [fast, ref] = [await decodeImageAsync(bytes), decodeImage(bytes)];
      expect([fast.width, fast.height]).toEqual([ref.width, ref.height]);
      let sum = 0;
      for (let i = 0; i < ref.data.length; i++) sum += Math.abs(fast.data[i]! - ref.data[i]!);
      expect(sum / ref.data.length).toBeLessThan(2);
    }
    await expect(decodeImageAsync(Uint8Array.of(0xff, 0xd8, 0xff, 0x00, 1, 2, 3))).rejects.toThrow(/not a decodable JPEG|not a PNG or JPEG image/);
    await expect(decodeImageAsync(Uint8Array.of(1, 2, 3))).rejects.toThrow(/not a PNG or JPEG/);
  });
});

describe('face pipeline', () => {
  let pipeline: FacePipeline;
  beforeAll(async () => {
    pipeline = await FacePipeline.create();
  });
  afterAll(async () => pipeline?.close());

  it('finds faces with keypoints, quality, liveness and unit-length embeddings in the photos shipped in the npm packages', async () => {
    const files = packageSampleImages();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const faces = await pipeline.analyse(decodeImage(await readFile(f)), { embedRejected: true });
      expect(faces.length, f).toBeGreaterThan(0);
      for (const face of faces) {
        expect(face.keypoints).toHaveLength(6);
        expect(face.box.width).toBeGreaterThan(0);
        expect(face.quality.reasons.length === 0).toBe(face.quality.ok);
        expect(face.liveness!.real).toBeGreaterThanOrEqual(0);
        expect(face.liveness!.real).toBeLessThanOrEqual(1);
        expect(face.embedding).toHaveLength(128);
        expect(similarity(face.embedding!, face.embedding!)).toBeCloseTo(1, 4);
      }
    }
  });

  it('the quality gate names its reasons: a blurred copy of a face is "blurry", a sharp one passes the blur check', async () => {
    // The sample photo whose main face is sharpest (some sample faces are small and upscaled, so soft already).
    let img = decodeImage(await readFile(packageSampleImages()[0]!));
    let sharp = (await pipeline.analyse(img, { maxFaces: 1 }))[0]!;
    for (const f of packageSampleImages().slice(1)) {
      const candidate = decodeImage(await readFile(f));
      const [face] = await pipeline.analyse(candidate, { maxFaces: 1 });
      if (face && face.quality.sharpness > sharp.quality.sharpness) [img, sharp] = [candidate, face];
    }
    expect(sharp.quality.reasons).not.toContain('blurry');
    // Repeated box blur (a defocused camera).
    let data = Uint8Array.from(img.data);
    for (let pass = 0; pass < 6; pass++) {
      const out = new Uint8Array(data.length);
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++)
          for (let c = 0; c < 3; c++) {
            let s = 0, n = 0;
            for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
              const yy = y + dy, xx = x + dx;
              if (yy >= 0 && yy < img.height && xx >= 0 && xx < img.width) { s += data[(yy * img.width + xx) * 3 + c]!; n++; }
            }
            out[(y * img.width + x) * 3 + c] = s / n;
          }
      data = out;
    }
    const [blurred] = await pipeline.analyse({ ...img, data }, { maxFaces: 1 });
    expect(blurred!.quality.sharpness).toBeLessThan(sharp.quality.sharpness);
    expect(blurred!.quality.reasons).toContain('blurry');
    expect(blurred!.embedding).toBeNull();
  });
});

interface Crop {
  person: string;
  file: string;
}

describe.skipIf(!haveFaces)(title('identification on ../shared/faces'), () => {
  let pipeline: FacePipeline;
  const gallery: { person: string; e: Float32Array }[] = [];
  const probes: { person: string; e: Float32Array }[] = [];
  // faceapi-recognition's default door threshold (edge/src/face/config.ts DEFAULT_THRESHOLDS, measured there).
  const THRESHOLD = 0.92;
  beforeAll(async () => {
    pipeline = await FacePipeline.create({ liveness: false });
    const crops: Crop[] = readdirSync(FACES_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(path.join(FACES_DIR, d.name)).filter((f) => f.endsWith('.png')).sort().map((f) => ({ person: d.name, file: path.join(FACES_DIR, d.name, f) })));
    const seen = new Map<string, number>();
    for (const c of crops) {
      const n = seen.get(c.person) ?? 0;
      seen.set(c.person, n + 1);
      // Enrol from the first two crops of each person, identify the other three.
      (n < 2 ? gallery : probes).push({ person: c.person, e: await pipeline.embedCrop(decodeImage(await readFile(c.file))) });
    }
  });
  afterAll(async () => pipeline?.close());

  const best = (e: Float32Array) => gallery.reduce((b, g) => { const s = similarity(e, g.e); return s > b.score ? { person: g.person, score: s } : b; }, { person: '', score: -2 });

  it('rank-1 identification of held-out crops, and false accepts at the door threshold', () => {
    let correct = 0;
    let falseAccepts = 0;
    for (const p of probes) {
      const b = best(p.e);
      if (b.person === p.person) correct++;
      else if (b.score >= THRESHOLD) falseAccepts++;
    }
    console.log(`crops: rank-1 ${correct}/${probes.length} (${((100 * correct) / probes.length).toFixed(1)} %), false accepts at ${THRESHOLD}: ${falseAccepts}`);
    expect(correct / probes.length).toBeGreaterThanOrEqual(0.9);
  });

  it('every face found in the group photos is identified, and no one appears twice in one photo', async () => {
    let faces = 0;
    let identified = 0;
    let duplicates = 0;
    for (const f of readdirSync(FACES_DIR).filter((f) => /^bbt\d+\.jpg$/.test(f)).sort()) {
      const found = await pipeline.analyse(decodeImage(await readFile(path.join(FACES_DIR, f))));
      const names = found.filter((x) => x.embedding).map((x) => best(x.embedding!)).filter((b) => b.score >= THRESHOLD).map((b) => b.person);
      faces += found.length;
      identified += names.length;
      duplicates += names.length - new Set(names).size;
      console.log(`${f}: ${found.length} faces, ${found.filter((x) => x.quality.ok).length} pass quality, identified: ${names.join(', ')}`);
    }
    console.log(`group photos: ${identified} of ${faces} faces identified above ${THRESHOLD}, ${duplicates} duplicate identities within a photo (each one a certain false accept)`);
    expect(identified).toBeGreaterThanOrEqual(15);
    expect(duplicates).toBe(0);
  });
});
