import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { FacePipeline, decodeImage, loadModel, type FaceResult, type RgbImage } from '@warden/models';
import { packageDir } from '@warden/models/paths.ts';
import { startEdgeAgent } from '@warden/edge/agent.ts';
import { parseEdgeConfig } from '@warden/edge/config.ts';
import { Gallery } from '@warden/edge/face/gallery.ts';
import { parseGalleryKey, saveGallery } from '@warden/edge/face/store.ts';
import { syntheticTemplates } from '@warden/edge/face/synthetic.ts';
import { fmt, printTable, summarize, type Row } from './stats.ts';

const IDENTITIES = 30_000;

/** A terminal-sized JPEG (480x480) framing one face, as a face terminal would send. */
function terminalFrame(img: RgbImage, face: FaceResult, side: number): Buffer {
  const size = 480;
  const cx = face.box.x + face.box.width / 2;
  const cy = face.box.y + face.box.height / 2;
  const rgba = Buffer.alloc(size * size * 4, 255);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, Math.round(cx - side / 2 + (x * side) / size)));
      const sy = Math.min(img.height - 1, Math.max(0, Math.round(cy - side / 2 + (y * side) / size)));
      for (let c = 0; c < 3; c++) rgba[(y * size + x) * 4 + c] = img.data[(sy * img.width + sx) * 3 + c]!;
    }
  return Buffer.from(jpeg.encode({ data: rgba, width: size, height: size }, 85).data);
}

async function timeIt(n: number, warm: number, fn: () => Promise<unknown>): Promise<ReturnType<typeof summarize>> {
  for (let i = 0; i < warm; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

const ms = (s: { p50: number; p99: number }) => `${fmt(s.p50)} / ${fmt(s.p99)} ms`;

/** Per-face detect + embed on ONNX Runtime (1 and 2 threads) beside the TFJS models they were converted from. */
async function pipelineLatency(frame: RgbImage): Promise<Row[]> {
  const rows: Row[] = [];
  const { referenceRunner } = await import('@warden/models/reference.ts');
  const tfjs = FacePipeline.fromRunners({ detector: await referenceRunner('blazeface'), embedder: await referenceRunner('faceapi-recognition') }, { liveness: false });
  const n = Number(process.env.WARDEN_BENCH_FACE_TFJS_RUNS ?? 8);
  const ref = await timeIt(n, 1, () => tfjs.analyse(frame, { maxFaces: 1 }));
  await tfjs.close();
  for (const threads of [1, 2]) {
    const p = await FacePipeline.create({ threads, liveness: false });
    const s = await timeIt(200, 10, () => p.analyse(frame, { maxFaces: 1 }));
    await p.close();
    rows.push({ metric: `detect+align+embed per face, ORT ${threads} thread${threads > 1 ? 's' : ''} p50/p99`, warden: ms(s), baseline: `TFJS cpu ${ms(ref)} (n=${n})`, ratio: `${fmt(ref.p50 / s.p50, 0)}x` });
  }
  const full = await FacePipeline.create({ threads: 1 });
  const s = await timeIt(200, 10, () => full.analyse(frame, { maxFaces: 1 }));
  await full.close();
  rows.push({ metric: '+ antispoof + liveness, ORT 1 thread p50/p99', warden: ms(s), baseline: '', ratio: '' });
  // Model-only times, so pre/post-processing in JS can be told apart from inference.
  for (const name of ['blazeface', 'faceapi-recognition'] as const) {
    const session = await loadModel(name, { sessionOptions: { intraOpNumThreads: 1 } });
    const size = name === 'blazeface' ? 256 : 150;
    const { Tensor } = await import('onnxruntime-node');
    const input = new Tensor('float32', new Float32Array(size * size * 3).fill(0.5), [1, size, size, 3]);
    const t = await timeIt(200, 10, () => session.run({ input }));
    await session.release();
    rows.push({ metric: `  ${name} inference only, ORT 1 thread`, warden: ms(t), baseline: '', ratio: '' });
  }
  return rows;
}

/** 1:N search over synthetic identities: the gallery (WebAssembly SIMD, and its JS loop) beside a naive scan-and-sort. */
function searchLatency(): Row[] {
  const d = 128;
  const templates = syntheticTemplates(IDENTITIES, d, 11);
  const probes = syntheticTemplates(1000, d, 12);
  const build = (kernel: 'auto' | 'js') => {
    const g = new Gallery(d, IDENTITIES, { kernel });
    for (let i = 0; i < IDENTITIES; i++) g.addTemplate(`person-${i}`, templates.subarray(i * d, (i + 1) * d));
    return g;
  };
  const time = (n: number, fn: (p: Float32Array) => unknown) => {
    for (let i = 0; i < 20; i++) fn(probes.subarray(i * d, (i + 1) * d));
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = probes.subarray((i % 1000) * d, ((i % 1000) + 1) * d);
      const t = performance.now();
      fn(p);
      samples.push(performance.now() - t);
    }
    return summarize(samples);
  };
  const simd = build('auto');
  const js = build('js');
  const fast = time(2000, (p) => simd.search(p, 5));
  const loop = time(500, (p) => js.search(p, 5));
  // The obvious implementation: one array per identity, score every one, sort, take the top 5.
  const naiveRows = Array.from({ length: IDENTITIES }, (_, i) => ({ id: `person-${i}`, t: templates.slice(i * d, (i + 1) * d) }));
  const naive = time(100, (p) =>
    naiveRows
      .map((r) => ({ id: r.id, s: r.t.reduce((acc, v, j) => acc + v * p[j]!, 0) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 5),
  );
  return [
    { metric: `1:N top-5 over ${IDENTITIES.toLocaleString('en-US')} (${simd.simd ? 'WASM SIMD' : 'JS'}) p50/p99`, warden: ms(fast), baseline: `naive ${ms(naive)}`, ratio: `${fmt(naive.p99 / fast.p99, 0)}x` },
    { metric: '1:N, same gallery with its plain-JS loop p50/p99', warden: ms(loop), baseline: '', ratio: '' },
  ];
}

async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * Capture to door unlock through a real edge agent with the hub unreachable and 30,000 identities in its
 * gallery; beside it, the same terminal presenting a card (no image, no models): the field round trip alone.
 */
async function doorLatency(enrolImg: RgbImage, person: FaceResult, pipeline: FacePipeline): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-face-'));
  const gallery = new Gallery(128, IDENTITIES + 1);
  const synthetic = syntheticTemplates(IDENTITIES, 128, 21);
  for (let i = 0; i < IDENTITIES; i++) gallery.addTemplate(`synthetic-${i}`, synthetic.subarray(i * 128, (i + 1) * 128));
  gallery.upsertPerson('student-0042', { credentials: ['CARD-42'] });
  const [enrolled] = await pipeline.analyse(decodeImage(terminalFrame(enrolImg, person, person.box.width * 1.6)));
  gallery.addTemplate('student-0042', enrolled!.embedding!);
  const key = '5eed'.padEnd(64, '0');
  await saveGallery(join(dir, 'gallery.bin'), gallery, parseGalleryKey(key));
  const known = terminalFrame(enrolImg, person, person.box.width * 2.4).toString('base64');

  const config = parseEdgeConfig({
    gateway: { id: 'gw-bench-face' },
    hub: { url: `mqtt://127.0.0.1:${await deadPort()}`, reconnectMs: 600_000 },
    field: { host: '127.0.0.1', port: 0, requireAuth: false }, // loopback bench; field auth: edge/test/field-security.test.ts
    outbox: { path: join(dir, 'outbox.db') },
    metrics: { enabled: false },
    face: { enabled: true, gallery: join(dir, 'gallery.bin'), galleryKey: key },
    devices: [
      { id: 'face-1', driver: 'face-terminal', options: { mode: 'access', door: 'door-1' } },
      { id: 'door-1', driver: 'door-controller' },
    ],
  });
  const agent = await startEdgeAgent(config, { logger: pino({ level: 'silent' }) });
  const url = `mqtt://127.0.0.1:${agent.field.port}`;
  const door = await mqtt.connectAsync(url, { clientId: 'door-1', reconnectPeriod: 0 });
  let onUnlock: (() => void) | undefined;
  door.on('message', (_t, payload) => {
    const cmd = JSON.parse(payload.toString()) as { ref: string };
    onUnlock?.();
    void door.publishAsync('acs/door-1/control/reply', JSON.stringify({ ref: cmd.ref, result: 'OK' }), { qos: 1 });
  });
  await door.subscribeAsync('acs/door-1/control', { qos: 1 });
  await door.publishAsync('avail/door-1', 'online', { qos: 1, retain: true });
  const terminal = await mqtt.connectAsync(url, { clientId: 'face-1', reconnectPeriod: 0 });
  await terminal.publishAsync('avail/face-1', 'online', { qos: 1, retain: true });
  while (agent.devicesOnline() < 2) await new Promise((r) => setTimeout(r, 20));

  const measure = async (n: number, body: string) => {
    const samples: number[] = [];
    for (let i = 0; i < n + 5; i++) {
      const unlocked = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no door unlock within 5 s')), 5000);
        onUnlock = () => (clearTimeout(timer), resolve());
      });
      const t = performance.now();
      await terminal.publishAsync('face/face-1/capture', body, { qos: 1 });
      await unlocked;
      if (i >= 5) samples.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20)); // one person at a time, as at a door
    }
    return summarize(samples);
  };
  const face = await measure(Number(process.env.WARDEN_BENCH_FACE_DOOR_RUNS ?? 200), JSON.stringify({ image: known }));
  const card = await measure(100, JSON.stringify({ card: 'CARD-42' }));
  await terminal.endAsync(true);
  await door.endAsync(true);
  await agent.stop();
  rmSync(dir, { recursive: true, force: true });
  return [
    {
      metric: `door: face capture -> unlock, hub down, ${IDENTITIES.toLocaleString('en-US')} in gallery p50/p99`,
      warden: ms(face),
      baseline: `card at same terminal ${ms(card)}`,
      ratio: `${fmt(face.p99 - card.p99)} ms`,
    },
  ];
}

/** `warden bench face` / `warden face bench`. Targets: door decision < 100 ms p99; 1:N over 30,000 < 5 ms p99. */
export async function benchFace(): Promise<void> {
  const demo = join(packageDir('@vladmandic/face-api'), 'demo');
  const img = decodeImage(await readFile(join(demo, 'sample3.jpg')));
  const pipeline = await FacePipeline.create({ liveness: false });
  const [person] = (await pipeline.analyse(img)).filter((f) => f.quality.ok);
  if (!person) throw new Error('no usable face in the package sample photo');
  const frame = decodeImage(terminalFrame(img, person, person.box.width * 2.4));
  const rows = [...searchLatency(), ...(await doorLatency(img, person, pipeline)), ...(await pipelineLatency(frame))];
  await pipeline.close();
  printTable('face: per-face pipeline (480x480 terminal frame, one face), 1:N search, door decision', rows);
}
