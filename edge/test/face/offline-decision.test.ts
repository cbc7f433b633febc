import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FacePipeline, decodeImage, faceWindowJpeg, type FaceBox, type RgbImage } from '@warden/models';
import { packageDir } from '@warden/models/paths.ts';
import { startEdgeAgent, type EdgeAgent } from '../../src/agent.ts';
import { parseEdgeConfig } from '../../src/config.ts';
import { Gallery } from '../../src/face/gallery.ts';
import { parseGalleryKey, saveGallery } from '../../src/face/store.ts';
import { eventually, fieldDevice, outboxRecords, silent, tempDir, deadPort } from '../helpers.ts';

/** A terminal-sized JPEG (480x480) around a face. */
const terminalFrame = (img: RgbImage, face: { box: FaceBox }, side: number, dx = 0) => faceWindowJpeg(img, face.box, side, { dx, size: 480, quality: 85 });

/** A port nobody listens on: the hub is down for the whole test. */
/**
 * The door decision runs on the gateway: with the hub unreachable, a face terminal sends a known face and the
 * door controller gets its unlock command; an unknown face is denied and reported as a stranger; a card is
 * the alternative. Real agent, real field broker (MQTT over TCP), real models, real encrypted gallery file.
 */
describe('face decisions at the edge with the hub down', () => {
  const tmp = tempDir('warden-face-');
  let agent: EdgeAgent;
  let terminal: MqttClient;
  let door: MqttClient;
  const unlocks: Array<{ op: string; seconds: number; at: number }> = [];
  const results: Array<Record<string, unknown> & { at: number }> = [];
  let known: Buffer;
  let unknown: Buffer;
  let outboxPath: string;

  beforeAll(async () => {
    // Enrolment as the hub would do it (same pipeline): the largest well-posed face of one package photo.
    const pipeline = await FacePipeline.create({ liveness: false });
    const demo = join(packageDir('@vladmandic/face-api'), 'demo');
    const enrolImg = decodeImage(await readFile(join(demo, 'sample3.jpg')));
    const strangerImg = decodeImage(await readFile(join(demo, 'sample6.jpg')));
    const [person] = (await pipeline.analyse(enrolImg)).filter((f) => f.quality.ok);
    const [other] = (await pipeline.analyse(strangerImg)).filter((f) => f.quality.ok);
    const gallery = new Gallery(128);
    gallery.upsertPerson('student-0042', { credentials: ['CARD-42'] });
    // Enrolled from one framing; the terminal later sends another (wider, shifted, re-encoded).
    const [enrolFace] = await pipeline.analyse(decodeImage(terminalFrame(enrolImg, person!, person!.box.width * 1.6)));
    gallery.addTemplate('student-0042', enrolFace!.embedding!);
    await pipeline.close();
    known = terminalFrame(enrolImg, person!, person!.box.width * 2.4, person!.box.width * 0.2);
    unknown = terminalFrame(strangerImg, other!, other!.box.width * 2.2);

    const key = 'c0ffee'.padEnd(64, '1');
    const galleryFile = join(tmp.dir, 'gallery.bin');
    await saveGallery(galleryFile, gallery, parseGalleryKey(key));
    outboxPath = join(tmp.dir, 'outbox.db');
    const config = parseEdgeConfig({
      gateway: { id: 'gw-lab' },
      hub: { url: `mqtt://127.0.0.1:${await deadPort()}`, reconnectMs: 60_000 },
      field: { host: '127.0.0.1', port: 0, requireAuth: false }, // loopback bench; field auth: field-security.test.ts
      outbox: { path: outboxPath },
      face: { enabled: true, gallery: galleryFile, galleryKey: key },
      devices: [
        { id: 'face-lab-1', driver: 'face-terminal', options: { mode: 'access', door: 'door-lab-1', unlockSeconds: 3 } },
        { id: 'door-lab-1', driver: 'door-controller' },
      ],
    });
    agent = await startEdgeAgent(config, { logger: silent });

    door = await fieldDevice(agent.field.port, 'door-lab-1', { announce: false });
    door.on('message', (_t, payload) => {
      const cmd = JSON.parse(payload.toString()) as { op: string; seconds: number; ref: string };
      unlocks.push({ ...cmd, at: performance.now() });
      void door.publishAsync('acs/door-lab-1/control/reply', JSON.stringify({ ref: cmd.ref, result: 'OK' }), { qos: 1 });
    });
    await door.subscribeAsync('acs/door-lab-1/control', { qos: 1 });
    await door.publishAsync('avail/door-lab-1', 'online', { qos: 1, retain: true });

    terminal = await fieldDevice(agent.field.port, 'face-lab-1');
    terminal.on('message', (_t, payload) => results.push({ ...(JSON.parse(payload.toString()) as Record<string, unknown>), at: performance.now() }));
    await terminal.subscribeAsync('face/face-lab-1/result', { qos: 1 });
    await eventually(() => agent.devicesOnline() === 2, 'both devices online');
  }, 60_000);

  afterAll(async () => {
    await terminal?.endAsync(true);
    await door?.endAsync(true);
    await agent?.stop();
    tmp.remove();
  });

  const capture = async (body: Record<string, unknown>) => {
    const before = results.length;
    const sent = performance.now();
    await terminal.publishAsync('face/face-lab-1/capture', JSON.stringify(body), { qos: 1 });
    const result = await eventually(() => results[before], 'a face result');
    return { result, sent };
  };

  /** The outbox once it holds `n` events of `type` (records are committed just after the terminal is answered). */
  const recordsWith = async (type: string, n = 1) => {
    for (let i = 0; ; i++) {
      const records = await outboxRecords(outboxPath);
      if (records.filter((r) => r.kind === 'event' && r.type === type).length >= n) return records;
      if (i > 500) throw new Error(`timed out waiting for ${n} ${type} records`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('a capture fits the field broker’s default packet limit', () => {
    expect(JSON.stringify({ image: known.toString('base64') }).length).toBeLessThan(256 * 1024);
  });

  it('grants a known face and unlocks the door, with the hub unreachable', async () => {
    expect(agent.hubConnected()).toBe(false);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = unlocks.length;
      const { result, sent } = await capture({ image: known.toString('base64'), ref: `try-${i}` });
      expect(result).toMatchObject({ ref: `try-${i}`, result: 'GRANT', person: 'student-0042' });
      const unlock = await eventually(() => unlocks[before], 'the door unlock command');
      expect(unlock).toMatchObject({ op: 'UNLOCK', seconds: 3 });
      latencies.push(unlock.at - sent);
    }
    latencies.sort((a, b) => a - b);
    // The 100 ms p99 budget is measured by deploy/bench/face.ts on a quiet machine; here, with other
    // suites sharing the two cores, only a loose bound is asserted and the median is reported.
    console.log(`capture -> door unlock: median ${latencies[2]!.toFixed(1)} ms, max ${latencies[4]!.toFixed(1)} ms (hub down)`);
    expect(latencies[2]).toBeLessThan(1000);
    const records = await recordsWith('access.granted', 5);
    expect(records.filter((r) => r.kind === 'event' && r.type === 'access.granted' && r.device === 'face-lab-1')).toHaveLength(5);
    expect(records.find((r) => r.kind === 'event' && r.type === 'access.granted')).toMatchObject({ data: { method: 'face', person: 'student-0042' } });
  });

  it('denies an unknown face, reports a stranger and leaves the door shut', async () => {
    const before = unlocks.length;
    const { result } = await capture({ image: unknown.toString('base64') });
    expect(result).toMatchObject({ result: 'DENY', reason: 'no_match' });
    expect(result.score).toBeLessThan(0.92);
    const records = await recordsWith('face.stranger');
    expect(records.find((r) => r.kind === 'event' && r.type === 'access.denied' && (r.data as { reason: string }).reason === 'no_match')).toBeDefined();
    await capture({ card: 'NOT-A-CARD' }); // a later capture is answered only after the stranger's: no unlock was queued in between
    expect(unlocks.length).toBe(before);
  });

  it('takes the card as the alternative to the face', async () => {
    const before = unlocks.length;
    const { result } = await capture({ card: 'CARD-42' });
    expect(result).toMatchObject({ result: 'GRANT', person: 'student-0042' });
    await eventually(() => unlocks[before], 'the door unlock command');
    const { result: bad } = await capture({ card: 'CARD-99' });
    expect(bad).toMatchObject({ result: 'DENY', reason: 'unknown_credential' });
  });

  it('answers a capture that is not an image with a refusal, and keeps working', async () => {
    const { result } = await capture({ image: Buffer.from('definitely not a jpeg').toString('base64') });
    expect(result).toMatchObject({ result: 'DENY', reason: 'bad_capture' });
    expect(agent.metrics.get('rejected.schema_invalid')).toBeGreaterThan(0);
    const { result: again } = await capture({ image: known.toString('base64') });
    expect(again).toMatchObject({ result: 'GRANT' });
  });
});
