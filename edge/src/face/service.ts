import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { CONTRACT_VERSION, RateLimitedLog, newId, parseJson, type RejectReason } from '@warden/contract';
import { FacePipeline, decodeImageAsync, type RgbImage } from '@warden/models';
import type { DeviceRuntime } from '../devices.ts';
import type { Emission } from '../driver.ts';
import type { CaptureMessage, FaceTerminalOptions } from '../drivers/face-terminal.ts';
import { DEFAULT_THRESHOLDS, type FaceConfig } from './config.ts';
import { decideCredential, decideFace, type Decision, type PointPolicy } from './decide.ts';
import { Gallery } from './gallery.ts';
import { loadGallery, loadGalleryKey, saveGallery } from './store.ts';
import { policyForMatch } from './sync.ts';

export interface FaceServiceDeps {
  config: FaceConfig;
  devices: ReadonlyMap<string, DeviceRuntime>;
  /** Commits records for a device through the outbox (they reach the hub when it is back). */
  emit(deviceId: string, emissions: Emission[]): void;
  /** Runs a contract command locally, as if the hub had sent it (the door unlock). */
  execute(command: Buffer): void;
  /** Publishes a native message to a field device. */
  publish(topic: string, payload: Record<string, unknown>): Promise<void>;
  refuse(reason: RejectReason, fields: Record<string, unknown>, msg: string): void;
  registry: Registry;
  logger: Logger;
  /** Folder of built models (tests use a shared one). */
  modelsDir?: string | undefined;
  /** A person's raised threshold at this point ("not this person" corrections synced from the hub). */
  personThreshold?(person: string, device: string): number | undefined;
}

const CAPTURE = /^face\/([^/]+)\/capture$/;
/** How long a decided capture is remembered to recognise its QoS 1 redelivery, and how many at most. */
const REDELIVERY_WINDOW_MS = 10 * 60_000;
const REDELIVERY_MAX = 5000;

/**
 * Face decisions on the gateway: a face terminal's capture -> pipeline -> 1:N search in the local gallery ->
 * the point's decision -> door unlock (a local command through the command router) + result to the terminal
 * + records to the outbox. Nothing here needs the hub, so a known face opens the door while the hub is down.
 * Captures are decided one at a time in arrival order: two cores cannot run two pipelines faster than one.
 */
export class FaceService {
  private readonly log: RateLimitedLog;
  private queue: Promise<void> = Promise.resolve();
  private waiting = 0;
  private stopped = false;
  private readonly decisions: Counter<'result'>;
  private readonly latency: Histogram<'mode'>;
  private readonly dropped: Counter;
  private readonly redelivered: Counter;
  /** Decided captures by terminal + payload digest: when decided (monotonic ms) and the result sent. */
  private readonly decided = new Map<string, { at: number; reply: Record<string, unknown> | undefined }>();

  private constructor(
    private readonly d: FaceServiceDeps,
    private readonly pipeline: FacePipeline | null,
    readonly gallery: Gallery,
    private readonly key: Buffer,
  ) {
    this.log = new RateLimitedLog(d.logger);
    this.decisions = new Counter({ name: 'warden_edge_face_decisions_total', help: 'Face point decisions, by result', labelNames: ['result'], registers: [d.registry] });
    this.latency = new Histogram({
      name: 'warden_edge_face_decision_seconds',
      help: 'Capture received to decision sent (decode, detect, embed, search), by point mode',
      labelNames: ['mode'],
      buckets: [0.01, 0.02, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2],
      registers: [d.registry],
    });
    this.dropped = new Counter({ name: 'warden_edge_face_captures_dropped_total', help: 'Captures refused because too many were waiting', registers: [d.registry] });
    this.redelivered = new Counter({
      name: 'warden_edge_face_captures_redelivered_total',
      help: 'Captures received again after their decision (QoS 1 redelivery): answered with the first result, not decided twice',
      registers: [d.registry],
    });
  }

  static async start(d: FaceServiceDeps): Promise<FaceService> {
    const key = loadGalleryKey({ key: d.config.galleryKey, keyFile: d.config.galleryKeyFile });
    const dimensions = d.config.recogniser === 'faceres' ? 1024 : 128;
    let gallery: Gallery;
    if (existsSync(d.config.gallery)) {
      gallery = await loadGallery(d.config.gallery, key);
      if (gallery.dimensions !== dimensions) throw new Error(`face gallery ${d.config.gallery} holds ${gallery.dimensions}-D templates, ${d.config.recogniser} makes ${dimensions}-D`);
    } else {
      gallery = new Gallery(dimensions);
      await mkdir(path.dirname(d.config.gallery), { recursive: true });
      await saveGallery(d.config.gallery, gallery, key);
    }
    // Card-only gateways (face.cardsOnly) decide credentials from the gallery and never load the face models.
    if (d.config.cardsOnly) {
      d.logger.info({ persons: gallery.personCount, credentials: 'only' }, 'face service ready (cards and QR only)');
      return new FaceService(d, null, gallery, key);
    }
    const pipeline = await FacePipeline.create({ recogniser: d.config.recogniser, threads: d.config.threads, buildDir: d.modelsDir });
    // The first run of each ONNX session is several times slower; take it now, not at the first door.
    const blank: RgbImage = { width: 160, height: 160, data: new Uint8Array(160 * 160 * 3).fill(128) };
    await pipeline.analyse(blank);
    await pipeline.embedCrop(blank);
    d.logger.info({ persons: gallery.personCount, templates: gallery.templateCount, recogniser: d.config.recogniser, simd: gallery.simd }, 'face service ready');
    return new FaceService(d, pipeline, gallery, key);
  }

  /** Whether a field message is a capture this service decides (the agent passes everything else to ingest). */
  handles(deviceId: string, topic: string): boolean {
    const m = CAPTURE.exec(topic);
    return m !== null && m[1] === deviceId && this.d.devices.get(deviceId)?.driver.name === 'face-terminal';
  }

  handle(deviceId: string, topic: string, payload: Buffer): void {
    if (this.stopped) return;
    const received = performance.now();
    if (this.waiting >= this.d.config.maxQueue) {
      this.dropped.inc();
      this.log.warn('face_busy', { device: deviceId, waiting: this.waiting }, 'face capture refused: too many captures waiting for a decision');
      void this.reply(deviceId, { result: 'DENY', reason: 'busy' });
      return;
    }
    this.waiting++;
    this.queue = this.queue
      .then(() => this.decide(deviceId, topic, payload, received))
      .catch((err: unknown) => this.d.logger.error({ err, device: deviceId }, 'face decision failed'))
      .finally(() => this.waiting--);
  }

  /** Resolves when every capture received so far has been decided. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Writes the gallery file (after enrolment changes). */
  save(): Promise<void> {
    return saveGallery(this.d.config.gallery, this.gallery, this.key);
  }

  private policy(device: DeviceRuntime): PointPolicy {
    const o = device.options as FaceTerminalOptions;
    return { mode: o.mode, direction: o.direction, minReal: o.minReal, threshold: o.threshold ?? DEFAULT_THRESHOLDS[this.d.config.recogniser] };
  }

  private async decide(deviceId: string, topic: string, payload: Buffer, received: number): Promise<void> {
    const device = this.d.devices.get(deviceId)!;
    const handler = device.topics.get(topic);
    const parsed = parseJson(payload);
    if (!parsed.ok) return this.refuse('malformed_json', deviceId, topic, parsed.detail);
    if (handler?.type !== 'uplink' || !handler.check.check(parsed.value)) return this.refuse('schema_invalid', deviceId, topic, handler?.check.explain(parsed.value) ?? 'no capture schema');
    const m = parsed.value as CaptureMessage;
    if (m.image === undefined && m.card === undefined && m.qr === undefined) return this.refuse('schema_invalid', deviceId, topic, 'a capture needs image, card or qr');
    // Decided once: a capture that names itself (ref or t) and arrives again byte for byte from the same terminal is
    // its QoS 1 redelivery (the terminal missed the PUBACK and resent it). It gets the first decision's answer again:
    // no second unlock, no second record. Captures run one at a time, so the first is decided before this check.
    const key = m.ref !== undefined || m.t !== undefined ? `${deviceId}\u0000${createHash('sha256').update(payload).digest('base64')}` : undefined;
    const now = performance.now();
    const earlier = key ? this.decided.get(key) : undefined;
    if (earlier && now - earlier.at < REDELIVERY_WINDOW_MS) {
      this.redelivered.inc();
      this.log.warn('face_redelivered', { device: deviceId, ref: m.ref }, 'face capture received again (redelivery): answered with its first decision');
      if (earlier.reply) await this.reply(deviceId, earlier.reply);
      return;
    }
    const policy = this.policy(device);
    const ts = m.t !== undefined && Number.isFinite(m.t) ? Math.round(m.t) : undefined;

    const decisions: Decision[] = [];
    if (m.card !== undefined || m.qr !== undefined) {
      const method = m.card !== undefined ? 'card' : 'qr';
      const credential = (m.card ?? m.qr)!;
      decisions.push(decideCredential(policy, method, credential, this.gallery.credentialOwner(credential)));
    } else {
      if (!this.pipeline) return this.refuse('schema_invalid', deviceId, topic, 'face images are not decided at this gateway (face.cardsOnly): present a card or QR code');
      let img: RgbImage;
      try {
        img = await decodeImageAsync(Buffer.from(m.image!, 'base64'));
      } catch (err) {
        return this.refuse('schema_invalid', deviceId, topic, `image: ${(err as Error).message}`);
      }
      const faces = await this.pipeline.analyse(img, { maxFaces: policy.mode === 'trajectory' ? undefined : 1, liveness: policy.minReal > 0 });
      if (faces.length === 0) decisions.push(decideFace(policy, undefined, undefined));
      for (const face of faces) {
        const match = face.embedding ? this.gallery.search(face.embedding, 1)[0] : undefined;
        decisions.push(decideFace(match ? policyForMatch(policy, this.d.personThreshold?.(match.person, deviceId)) : policy, face, match));
      }
    }

    // Door first: it is what the person in front of the terminal is waiting for.
    const first = decisions[0]!;
    const door = (device.options as FaceTerminalOptions).door;
    if (first.open && door) {
      const seconds = (device.options as FaceTerminalOptions).unlockSeconds;
      this.d.execute(Buffer.from(JSON.stringify({ v: CONTRACT_VERSION, id: newId(), device: door, action: 'door.unlock', params: { seconds }, ts: Date.now() })));
    }
    const answer = {
      ...(m.ref ? { ref: m.ref } : {}),
      result: first.result,
      ...(first.person ? { person: first.person } : {}),
      ...(first.score !== undefined ? { score: first.score } : {}),
      ...(first.reason ? { reason: first.reason } : {}),
      ...(first.open && !door ? { open: (device.options as FaceTerminalOptions).unlockSeconds } : {}),
    };
    if (key) this.remember(key, now, answer);
    await this.reply(deviceId, answer);
    this.latency.observe({ mode: policy.mode }, (performance.now() - received) / 1000);
    for (const dec of decisions) {
      this.decisions.inc({ result: dec.result });
      if (dec.emissions.length) this.d.emit(deviceId, dec.emissions.map((e) => ({ ...e, ts: ts ?? e.ts })));
    }
  }

  private remember(key: string, at: number, reply: Record<string, unknown>): void {
    this.decided.delete(key);
    this.decided.set(key, { at, reply });
    // Oldest first (insertion order): drop what is past the window, and beyond the cap the oldest.
    for (const [k, v] of this.decided) {
      if (this.decided.size <= REDELIVERY_MAX && at - v.at < REDELIVERY_WINDOW_MS) break;
      this.decided.delete(k);
    }
  }

  private refuse(reason: RejectReason, device: string, topic: string, detail: string): void {
    this.d.refuse(reason, { device, topic, detail: detail.slice(0, 300) }, 'face capture refused');
    void this.reply(device, { result: 'DENY', reason: 'bad_capture' });
  }

  private async reply(deviceId: string, payload: Record<string, unknown>): Promise<void> {
    try {
      await this.d.publish(`face/${deviceId}/result`, payload);
    } catch (err) {
      this.log.warn('face_result', { device: deviceId, err: (err as Error).message }, 'could not send the face result to the terminal');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue;
    await this.pipeline?.close();
  }
}
