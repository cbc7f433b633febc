import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FacePipeline, decodeImageAsync, similarity, type Recogniser } from '@warden/models';
import { DEFAULT_THRESHOLDS } from './config.ts';
import { Gallery } from './gallery.ts';
import { parsePairsCsv, summarise, type PairResult } from './verify.ts';

export interface VerifyOptions {
  pairs: string;
  root: string;
  json?: boolean;
  threshold?: string;
  recogniser?: string;
}

function recogniserOf(name: string | undefined): Recogniser {
  const r = name ?? 'faceapi-recognition';
  if (r !== 'faceapi-recognition' && r !== 'faceres') throw new Error(`--recogniser must be faceapi-recognition or faceres (got ${r})`);
  return r;
}

function thresholdOf(value: string | undefined, recogniser: Recogniser): number {
  if (value === undefined) return DEFAULT_THRESHOLDS[recogniser];
  const t = Number(value);
  if (!Number.isFinite(t) || t < -1 || t > 1) throw new Error(`--threshold must be a number from -1 to 1 (got ${value})`);
  return t;
}

const IMAGE = /\.(jpe?g|png)$/i;

/**
 * `warden face verify`: each pair's similarity and decision, then accuracy at the threshold and TAR at
 * FAR 1e-2 / 1e-3. Images are treated as face photos: the largest face is aligned and embedded (a crop
 * with no detectable face is embedded whole).
 */
export async function faceVerify(opts: VerifyOptions, out: (line: string) => void = console.log): Promise<ReturnType<typeof summarise> & { recogniser: Recogniser; results: PairResult[] }> {
  const recogniser = recogniserOf(opts.recogniser);
  const threshold = thresholdOf(opts.threshold, recogniser);
  let csv: string;
  try {
    csv = await readFile(opts.pairs, 'utf8');
  } catch (err) {
    throw new Error(`cannot read pairs CSV ${opts.pairs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const pairs = parsePairsCsv(csv);
  const pipeline = await FacePipeline.create({ recogniser, liveness: false });
  try {
    const cache = new Map<string, Float32Array>();
    const embed = async (file: string) => {
      let e = cache.get(file);
      if (!e) {
        const full = path.resolve(opts.root, file);
        let bytes: Buffer;
        try {
          bytes = await readFile(full);
        } catch (err) {
          throw new Error(`cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        e = await pipeline.embedCrop(await decodeImageAsync(bytes));
        cache.set(file, e);
      }
      return e;
    };
    const results: PairResult[] = [];
    for (const p of pairs) {
      const s = similarity(await embed(p.fileX), await embed(p.fileY));
      const r = { ...p, similarity: s, same: s >= threshold };
      results.push(r);
      if (!opts.json) out(`${p.fileX}\t${p.fileY}\t${s.toFixed(4)}\t${r.same ? 'same' : 'different'}\t${r.same === p.expected ? 'ok' : 'WRONG'}`);
    }
    const summary = summarise(results, threshold);
    if (opts.json) out(JSON.stringify({ recogniser, ...summary, results }));
    else {
      out(`\n${summary.pairs} pairs (${summary.positives} same, ${summary.negatives} different), ${recogniser}, threshold ${threshold}`);
      out(`accuracy ${(summary.accuracy * 100).toFixed(2)} %`);
      for (const [far, t] of Object.entries(summary.tarAtFar)) {
        out(t ? `TAR at FAR ${far}: ${(t.tar * 100).toFixed(2)} % (similarity > ${t.threshold.toFixed(4)}, ${t.falseAccepts} false accepts allowed of ${summary.negatives})` : `TAR at FAR ${far}: n/a (needs same and different pairs)`);
      }
      if (summary.negatives > 0 && summary.negatives < 1000) out(`note: ${summary.negatives} different-person pairs cannot measure FAR below ${(1 / summary.negatives).toExponential(1)}`);
    }
    return { recogniser, ...summary, results };
  } finally {
    await pipeline.close();
  }
}

export interface IdentifyOptions {
  gallery: string;
  probe: string;
  json?: boolean;
  threshold?: string;
  recogniser?: string;
}

/**
 * Gallery folder: one sub-folder per person (its images); only when there are no sub-folders, images at the
 * top level named after the person. (../shared/faces has both: its top-level group photos are not persons.)
 */
function galleryImages(dir: string): { person: string; file: string }[] {
  const entries = readdirSync(dir).sort();
  const folders = entries.filter((e) => statSync(path.join(dir, e)).isDirectory());
  const out = folders.length
    ? folders.flatMap((person) => readdirSync(path.join(dir, person)).sort().filter((f) => IMAGE.test(f)).map((f) => ({ person, file: path.join(dir, person, f) })))
    : entries.filter((e) => IMAGE.test(e)).map((e) => ({ person: e.replace(/\.[^.]+$/, ''), file: path.join(dir, e) }));
  if (out.length === 0) throw new Error(`no JPEG or PNG images in ${dir} (expected one folder per person, or <person>.jpg files)`);
  return out;
}

/** `warden face identify`: enrol every image of a folder, then name each face in the probe image (top 3 candidates each). */
export async function faceIdentify(opts: IdentifyOptions, out: (line: string) => void = console.log) {
  const recogniser = recogniserOf(opts.recogniser);
  const threshold = thresholdOf(opts.threshold, recogniser);
  const pipeline = await FacePipeline.create({ recogniser });
  try {
    const gallery = new Gallery(pipeline.dimensions);
    const images = galleryImages(opts.gallery);
    for (const { person, file } of images) gallery.addTemplate(person, await pipeline.embedCrop(await decodeImageAsync(await readFile(file))));
    const faces = await pipeline.analyse(await decodeImageAsync(await readFile(opts.probe)), { embedRejected: true });
    const report = faces.map((f) => {
      const candidates = gallery.search(f.embedding!, 3);
      const best = candidates[0];
      return {
        box: { x: Math.round(f.box.x), y: Math.round(f.box.y), width: Math.round(f.box.width), height: Math.round(f.box.height) },
        quality: { ok: f.quality.ok, reasons: f.quality.reasons },
        real: f.liveness ? Math.round(f.liveness.real * 1000) / 1000 : null,
        // As at a door: a face failing the quality gate is not named, whatever its best candidate.
        person: best && best.score >= threshold && f.quality.ok ? best.person : null,
        candidates: candidates.map((c) => ({ person: c.person, score: Math.round(c.score * 10000) / 10000 })),
      };
    });
    if (opts.json) out(JSON.stringify({ recogniser, threshold, enrolled: { persons: gallery.personCount, images: images.length }, faces: report }));
    else {
      out(`gallery: ${gallery.personCount} persons from ${images.length} images; ${recogniser}, threshold ${threshold}`);
      if (report.length === 0) out('no face found in the probe image');
      for (const [i, r] of report.entries()) {
        const who = r.person ?? 'unknown';
        out(
          `face ${i + 1} at ${r.box.x},${r.box.y} ${r.box.width}x${r.box.height}: ${who}` +
            `  [${r.candidates.map((c) => `${c.person} ${c.score.toFixed(3)}`).join(', ')}]` +
            (r.quality.ok ? '' : `  quality: ${r.quality.reasons.join(', ')}`),
        );
      }
    }
    return report;
  } finally {
    await pipeline.close();
  }
}

/** Entry points for bin/cli.ts: errors become a message and exit code 1, not a stack trace. */
export async function runFaceVerify(opts: VerifyOptions): Promise<void> {
  await guard(() => faceVerify(opts));
}
export async function runFaceIdentify(opts: IdentifyOptions): Promise<void> {
  await guard(() => faceIdentify(opts));
}
async function guard(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    console.error(`warden face: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
