/**
 * Measures, on this machine, what models/README.md reports: ONNX Runtime latency per model (batch 1,
 * median and p90 of 50 runs after 5 warm-up runs) and the worst parity error against TFJS on seeded random
 * inputs. `npm run measure -w @warden/models`; prints a Markdown table.
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { loadModel, MODEL_NAMES, MODELS } from '../src/registry.ts';
import { compare, referenceFaceApi, referenceGraphModel, seededUniform, tfjsCpu } from '../test/helpers.ts';

const RUNS = 50;
const WARMUP = 5;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const tf = await tfjsCpu();
console.log(`${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, onnxruntime-node ${ort.env.versions.common}`);
console.log('| model | ORT threads | median ms | p90 ms | TFJS cpu ms (1 run) | worst rel. parity error |');
console.log('|---|---|---|---|---|---|');
for (const name of MODEL_NAMES) {
  const record = MODELS[name];
  const shape = record.input.shape.map((d) => (d === 'batch' ? 1 : d));
  const n = shape.reduce((a, b) => a * b, 1);
  const [lo, hi] = record.input.range;
  const inputs = [1, 2, 3].map((seed) => seededUniform(n, lo, hi, 100 + seed));

  let worst = 0;
  let tfjsMs = 0;
  const session = await loadModel(name);
  if (record.source.format === 'faceapi-recognition') {
    const net = await referenceFaceApi();
    for (const data of inputs) {
      const x = tf.tensor4d(data, shape as [number, number, number, number]);
      const t0 = performance.now();
      const y = await net.forward(x);
      tfjsMs = performance.now() - t0;
      const out = await session.run({ input: new ort.Tensor('float32', data, shape) });
      worst = Math.max(worst, compare(out.descriptor!.data as Float32Array, y.dataSync()).rel);
      tf.dispose([x, y]);
    }
  } else {
    const model = await referenceGraphModel(record);
    for (const data of inputs) {
      const x = tf.tensor(data, shape);
      const t0 = performance.now();
      const r = model.execute(x, record.tfOutputs.map(([t]) => t));
      const ys = Array.isArray(r) ? r : [r];
      ys.forEach((y) => y.dataSync());
      tfjsMs = performance.now() - t0;
      const out = await session.run({ input: new ort.Tensor('float32', data, shape) });
      record.tfOutputs.forEach(([, o], i) => {
        worst = Math.max(worst, compare(out[o]!.data as Float32Array, ys[i]!.dataSync()).rel);
      });
      tf.dispose([x, ...ys]);
    }
    model.dispose();
  }
  await session.release();

  for (const threads of [1, 2]) {
    const s = await loadModel(name, { sessionOptions: { intraOpNumThreads: threads } });
    const feed = { input: new ort.Tensor('float32', inputs[0]!, shape) };
    for (let i = 0; i < WARMUP; i++) await s.run(feed);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await s.run(feed);
      times.push(performance.now() - t0);
    }
    await s.release();
    times.sort((a, b) => a - b);
    console.log(`| ${name} | ${threads} | ${percentile(times, 0.5).toFixed(1)} | ${percentile(times, 0.9).toFixed(1)} | ${tfjsMs.toFixed(0)} | ${worst.toExponential(1)} |`);
  }
}
