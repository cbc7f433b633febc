import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FacePipeline, decodeImage, type RgbImage } from '@warden/models';
import { packageDir } from '@warden/models/paths.ts';
import { faceIdentify, faceVerify } from '../../src/face/cli.ts';
import { parsePairsCsv, summarise } from '../../src/face/verify.ts';
import { tempDir } from '../helpers.ts';

const REPO = resolve(import.meta.dirname, '../../..');
const FACES = process.env.WARDEN_FACES_DIR ? resolve(process.env.WARDEN_FACES_DIR) : resolve(REPO, '..', 'shared', 'faces');
const haveFaces = existsSync(FACES);
if (!haveFaces) console.warn(`face identify test on the group photos skipped: labelled face photos not found at ${FACES}`);

function cropJpeg(img: RgbImage, cx: number, cy: number, side: number, size = 200): Buffer {
  const rgba = Buffer.alloc(size * size * 4, 255);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, Math.round(cx - side / 2 + (x * side) / size)));
      const sy = Math.min(img.height - 1, Math.max(0, Math.round(cy - side / 2 + (y * side) / size)));
      for (let c = 0; c < 3; c++) rgba[(y * size + x) * 4 + c] = img.data[(sy * img.width + sx) * 3 + c]!;
    }
  return Buffer.from(jpeg.encode({ data: rgba, width: size, height: size }, 90).data);
}

describe('pairs CSV and the verify summary', () => {
  it('parses Yes/No pairs, quoted fields, and names the bad line', () => {
    expect(parsePairsCsv('file_x,file_y,Decision\na.jpg,"b,1.jpg",Yes\r\nc.jpg,d.jpg,no\n')).toEqual([
      { fileX: 'a.jpg', fileY: 'b,1.jpg', expected: true },
      { fileX: 'c.jpg', fileY: 'd.jpg', expected: false },
    ]);
    expect(() => parsePairsCsv('x,y,z\n')).toThrow(/file_x, file_y and Decision/);
    expect(() => parsePairsCsv('file_x,file_y,Decision\na,b,Maybe\n')).toThrow(/line 2: Decision must be Yes or No/);
  });

  it('TAR at FAR takes the strictest threshold that lets at most far x negatives through', () => {
    const results = [
      ...[0.99, 0.97, 0.95, 0.896].map((s) => ({ fileX: 'a', fileY: 'b', expected: true, similarity: s, same: s >= 0.93 })),
      ...Array.from({ length: 200 }, (_, i) => ({ fileX: 'a', fileY: 'c', expected: false, similarity: 0.5 + i * 0.002, same: 0.5 + i * 0.002 >= 0.93 })),
    ];
    const s = summarise(results, 0.93);
    expect(s.tarAtFar['1e-2']).toMatchObject({ falseAccepts: 2, tar: 1 }); // 2 of 200 impostors allowed: threshold = third highest, 0.894
    expect(s.tarAtFar['1e-3']).toMatchObject({ falseAccepts: 0, tar: 0.75 }); // above the highest impostor, 0.898
    expect(s.accuracy).toBeCloseTo(203 / 204, 6);
  });
});

describe('warden face verify / identify', () => {
  const tmp = tempDir('warden-face-cli-');
  afterAll(() => tmp.remove());
  let csv: string;

  beforeAll(async () => {
    // Pairs built from the photos shipped in the npm packages: two framings of one face are the same
    // person; faces from different photos of different people are not.
    const pipeline = await FacePipeline.create({ liveness: false });
    const demo = join(packageDir('@vladmandic/face-api'), 'demo');
    const rows = ['file_x,file_y,Decision'];
    const files: string[] = [];
    for (const name of ['sample3.jpg', 'sample6.jpg']) {
      const img = decodeImage(await readFile(join(demo, name)));
      const faces = (await pipeline.analyse(img)).filter((f) => f.quality.ok).slice(0, 2);
      for (const [i, f] of faces.entries()) {
        const cx = f.box.x + f.box.width / 2;
        const cy = f.box.y + f.box.height / 2;
        const a = `${name}-${i}-a.jpg`;
        const b = `${name}-${i}-b.jpg`;
        await writeFile(join(tmp.dir, a), cropJpeg(img, cx, cy, f.box.width * 1.5));
        await writeFile(join(tmp.dir, b), cropJpeg(img, cx + f.box.width * 0.1, cy, f.box.width * 2.2, 260));
        rows.push(`${a},${b},Yes`);
        files.push(a);
      }
    }
    await pipeline.close();
    for (let i = 0; i < files.length; i++) for (let j = i + 1; j < files.length; j++) rows.push(`${files[i]},${files[j]},No`);
    csv = join(tmp.dir, 'pairs.csv');
    await writeFile(csv, `${rows.join('\n')}\n`);
  }, 60_000);

  it('prints per-pair similarity and decision, then accuracy and TAR at FAR (text)', async () => {
    const lines: string[] = [];
    const r = await faceVerify({ pairs: csv, root: tmp.dir }, (l) => lines.push(l));
    expect(r.results).toHaveLength(4 + 6);
    expect(lines.filter((l) => /\t(same|different)\t(ok|WRONG)$/.test(l))).toHaveLength(10);
    expect(lines.join('\n')).toMatch(/accuracy \d+\.\d\d %/);
    expect(lines.join('\n')).toMatch(/TAR at FAR 1e-2: /);
    for (const p of r.results.filter((x) => x.expected)) expect(p.same, `${p.fileX} vs ${p.fileY}: ${p.similarity}`).toBe(true);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.9);
  }, 60_000);

  it('`warden face verify --json` through the real CLI prints one JSON object', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(REPO, 'bin/warden.js'), 'face', 'verify', '--pairs', csv, '--root', tmp.dir, '--json'], { cwd: REPO, timeout: 90_000 });
    const out = JSON.parse(stdout.trim()) as { accuracy: number; threshold: number; tarAtFar: Record<string, unknown>; results: unknown[] };
    expect(out.threshold).toBe(0.92);
    expect(out.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(Object.keys(out.tarAtFar).sort()).toEqual(['1e-2', '1e-3']);
    expect(out.results).toHaveLength(10);
  }, 100_000);

  it('a missing image is a clear error', async () => {
    await writeFile(join(tmp.dir, 'bad.csv'), 'file_x,file_y,Decision\nnope.jpg,nope2.jpg,Yes\n');
    await expect(faceVerify({ pairs: join(tmp.dir, 'bad.csv'), root: tmp.dir }, () => {})).rejects.toThrow(/cannot read .*nope\.jpg: ENOENT/);
  });

  it.skipIf(!haveFaces)(haveFaces ? 'identify names the faces of a group photo against ../shared/faces' : `SKIPPED, ${FACES} is missing: identify on a group photo`, async () => {
    const report = await faceIdentify({ gallery: FACES, probe: join(FACES, 'bbt4.jpg') }, () => {});
    const names = report.map((f) => f.person).filter((p): p is string => p !== null);
    expect(names.length).toBeGreaterThanOrEqual(4);
    expect(new Set(names).size).toBe(names.length);
  }, 60_000);
});
