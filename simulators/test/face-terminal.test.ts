import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type SimDevice } from '../src/index.ts';
import { record, silent, startBroker, type Recorder, type TestBroker } from './helpers.ts';

// Photos shipped inside an npm package, so the test runs everywhere.
const ASSETS = resolve(import.meta.dirname, '../../node_modules/@vladmandic/human/assets');
const DEMO = resolve(import.meta.dirname, '../../node_modules/@vladmandic/face-api/demo');

describe('simulated face terminal', () => {
  let broker: TestBroker;
  let rec: Recorder;
  let dir: string;
  const started: SimDevice[] = [];

  beforeAll(async () => {
    broker = await startBroker();
    rec = await record(broker.url);
    dir = mkdtempSync(join(tmpdir(), 'warden-sim-faces-'));
    copyFileSync(join(ASSETS, 'screenshot-faceid.jpg'), join(dir, 'a-faceid.jpg'));
    copyFileSync(join(ASSETS, 'screenshot-vrm.jpg'), join(dir, 'b-vrm.jpg'));
    if (existsSync(join(DEMO, 'sample3.jpg'))) copyFileSync(join(DEMO, 'sample3.jpg'), join(dir, 'c-too-big.jpg'));
  });
  afterAll(async () => {
    await Promise.all(started.map((d) => d.stop()));
    await rec.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the folder’s photos as base64 captures in name order, presents cards, and refuses a photo too big for the broker', async () => {
    const term = await startDevice({ id: 'face-t1', type: 'face-terminal', options: { behave: false, images: dir, cards: ['CARD-1'] } }, { url: broker.url, speed: 100, logger: silent });
    started.push(term);
    await term.act('capture', undefined);
    await term.act('capture', undefined);
    await term.act('card', undefined);
    const caps = await rec.waitForCount((m) => m.topic === 'face/face-t1/capture', 3, 'three captures');
    expect(Buffer.from(caps[0]!.json.image as string, 'base64').equals(readFileSync(join(dir, 'a-faceid.jpg')))).toBe(true);
    expect(Buffer.from(caps[1]!.json.image as string, 'base64').equals(readFileSync(join(dir, 'b-vrm.jpg')))).toBe(true);
    expect(caps[0]!.json).toMatchObject({ ref: 'cap-1' });
    expect(caps[2]!.json).toMatchObject({ card: 'CARD-1' });
    expect(caps.every((m) => m.text.length < 256 * 1024)).toBe(true);
    await expect(term.act('capture', 'c-too-big.jpg')).rejects.toThrow(/must stay under/);
    expect(term.state()).toMatchObject({ images: 3, captures: 2, lastFile: 'b-vrm.jpg' });
  });

  it('obeys UNLOCK on face/{id}/control and replies with the ref', async () => {
    const term = await startDevice({ id: 'face-t2', type: 'face-terminal', options: { behave: false } }, { url: broker.url, speed: 100, logger: silent });
    started.push(term);
    await rec.waitFor((m) => m.topic === 'avail/face-t2', 'online');
    const gw = await mqtt.connectAsync(broker.url, { clientId: 'gw-test-face', reconnectPeriod: 0 });
    await gw.publishAsync('face/face-t2/control', JSON.stringify({ op: 'UNLOCK', seconds: 5, ref: 'REF-1' }), { qos: 1 });
    const reply = await rec.waitFor((m) => m.topic === 'face/face-t2/control/reply', 'reply');
    expect(reply.json).toEqual({ ref: 'REF-1', ok: true });
    expect(term.state()).toMatchObject({ unlocked: 1 });
    await expect(term.act('capture', undefined)).rejects.toThrow(/no images/);
    await gw.endAsync(true);
  });
});
