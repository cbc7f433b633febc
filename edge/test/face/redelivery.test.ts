import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FacePipeline, decodeImage, faceWindowJpeg } from '@warden/models';
import { packageDir } from '@warden/models/paths.ts';
import { startEdgeAgent, type EdgeAgent } from '../../src/agent.ts';
import { parseEdgeConfig } from '../../src/config.ts';
import { Gallery } from '../../src/face/gallery.ts';
import { parseGalleryKey, saveGallery } from '../../src/face/store.ts';
import { eventually, fieldDevice, outboxRecords, silent, tempDir, deadPort } from '../helpers.ts';

/**
 * Issue 13: a face capture redelivered by MQTT QoS 1 (the terminal did not get its PUBACK and sends the same message
 * again, DUP set) is decided once: the terminal gets the first answer again, the door is unlocked once and one
 * record goes to the outbox (so one event at the hub). Real agent, field broker over TCP, models and gallery file.
 */
describe('a redelivered face capture is decided once', () => {
  const tmp = tempDir('warden-face-redeliver-');
  let agent: EdgeAgent;
  let terminal: MqttClient;
  let door: MqttClient;
  const unlocks: unknown[] = [];
  const results: Array<Record<string, unknown>> = [];
  let known: Buffer;
  let outboxPath: string;

  beforeAll(async () => {
    const pipeline = await FacePipeline.create({ liveness: false });
    const img = decodeImage(await readFile(join(packageDir('@vladmandic/face-api'), 'demo', 'sample3.jpg')));
    const [person] = (await pipeline.analyse(img)).filter((f) => f.quality.ok);
    const frame = faceWindowJpeg(img, person!.box, person!.box.width * 2.2, { size: 480, quality: 85 });
    const [enrol] = await pipeline.analyse(decodeImage(frame));
    await pipeline.close();
    const gallery = new Gallery(128);
    gallery.upsertPerson('student-0042', { credentials: ['CARD-42'] });
    gallery.addTemplate('student-0042', enrol!.embedding!);
    known = frame;
    const key = 'beef'.padEnd(64, '2');
    const galleryFile = join(tmp.dir, 'gallery.bin');
    await saveGallery(galleryFile, gallery, parseGalleryKey(key));
    outboxPath = join(tmp.dir, 'outbox.db');
    agent = await startEdgeAgent(
      parseEdgeConfig({
        gateway: { id: 'gw-redeliver' },
        hub: { url: `mqtt://127.0.0.1:${await deadPort()}`, reconnectMs: 60_000 },
        field: { host: '127.0.0.1', port: 0, requireAuth: false }, // loopback bench; field auth: field-security.test.ts
        outbox: { path: outboxPath },
        face: { enabled: true, gallery: galleryFile, galleryKey: key },
        devices: [
          { id: 'face-r-1', driver: 'face-terminal', options: { mode: 'access', door: 'door-r-1', unlockSeconds: 3 } },
          { id: 'door-r-1', driver: 'door-controller' },
        ],
      }),
      { logger: silent },
    );
    door = await fieldDevice(agent.field.port, 'door-r-1', { announce: false });
    door.on('message', (_t, payload) => {
      const cmd = JSON.parse(payload.toString()) as { ref: string };
      unlocks.push(cmd);
      void door.publishAsync('acs/door-r-1/control/reply', JSON.stringify({ ref: cmd.ref, result: 'OK' }), { qos: 1 });
    });
    await door.subscribeAsync('acs/door-r-1/control', { qos: 1 });
    await door.publishAsync('avail/door-r-1', 'online', { qos: 1, retain: true });
    terminal = await fieldDevice(agent.field.port, 'face-r-1');
    terminal.on('message', (_t, payload) => results.push(JSON.parse(payload.toString()) as Record<string, unknown>));
    await terminal.subscribeAsync('face/face-r-1/result', { qos: 1 });
    await eventually(() => agent.devicesOnline() === 2, 'both devices online');
  }, 60_000);

  afterAll(async () => {
    await terminal?.endAsync(true);
    await door?.endAsync(true);
    await agent?.stop();
    tmp.remove();
  });

  const granted = async () => (await outboxRecords(outboxPath)).filter((r) => r.kind === 'event' && r.type === 'access.granted' && r.device === 'face-r-1');

  it('a face capture sent twice (the second as a DUP redelivery) unlocks once, answers twice, stores one record', async () => {
    const body = JSON.stringify({ image: known.toString('base64'), ref: 'cap-7', t: 1_700_000_000_000 });
    await terminal.publishAsync('face/face-r-1/capture', body, { qos: 1 });
    await terminal.publishAsync('face/face-r-1/capture', body, { qos: 1, dup: true });
    await eventually(() => results.length >= 2, 'two answers');
    expect(results[0]).toMatchObject({ ref: 'cap-7', result: 'GRANT', person: 'student-0042' });
    expect(results[1]).toEqual(results[0]);
    await eventually(async () => (await granted()).length >= 1, 'the access.granted record');
    await new Promise((r) => setTimeout(r, 300));
    expect(unlocks).toHaveLength(1);
    expect(await granted()).toHaveLength(1);
    expect(await agent.metrics.registry.getSingleMetricAsString('warden_edge_face_captures_redelivered_total')).toMatch(/ 1$/m);
  });

  it('a new capture of the same face or card (another ref or time) is a new decision', async () => {
    await terminal.publishAsync('face/face-r-1/capture', JSON.stringify({ image: known.toString('base64'), ref: 'cap-8', t: 1_700_000_001_000 }), { qos: 1 });
    await eventually(() => results.length >= 3, 'the third answer');
    expect(results[2]).toMatchObject({ ref: 'cap-8', result: 'GRANT' });
    const card = JSON.stringify({ card: 'CARD-42', ref: 'tap-1', t: 1_700_000_002_000 });
    await terminal.publishAsync('face/face-r-1/capture', card, { qos: 1 });
    await terminal.publishAsync('face/face-r-1/capture', card, { qos: 1, dup: true });
    // A card tap without ref or time cannot be told from its redelivery, so it is always decided (tapped twice = two decisions).
    await terminal.publishAsync('face/face-r-1/capture', JSON.stringify({ card: 'CARD-42' }), { qos: 1 });
    await terminal.publishAsync('face/face-r-1/capture', JSON.stringify({ card: 'CARD-42' }), { qos: 1 });
    await eventually(() => results.length >= 7, 'seven answers');
    await eventually(async () => (await granted()).length >= 5, 'five access.granted records');
    await new Promise((r) => setTimeout(r, 300));
    expect(unlocks).toHaveLength(5);
    expect(await granted()).toHaveLength(5);
  });
});
