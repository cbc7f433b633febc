import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHubConfig, startHub, type Hub } from '@warden/hub';
import { FacePipeline, decodeImage, faceWindowJpeg, type FaceBox, type RgbImage } from '@warden/models';
import { packageDir } from '@warden/models/paths.ts';
import { startEdgeAgent, type EdgeAgent } from '@warden/edge/agent.ts';
import { parseEdgeConfig } from '@warden/edge/config.ts';
import { loadGallery, parseGalleryKey } from '@warden/edge/face/store.ts';
import { eventually, fieldDevice, silent, tempDir } from '../../edge/test/helpers.ts';

/** A 320x320 JPEG window around a face (an enrolment photo or a terminal frame). */
const frame = (img: RgbImage, face: { box: FaceBox }, side: number, dx = 0) => faceWindowJpeg(img, face.box, side, { dx, quality: 90 });

/**
 * Enrolment on the hub reaches the edge agent's own gallery over the real MQTT link: the hub computes the
 * template, the gateway's sync client applies the delta to the FaceService gallery and its encrypted file, the
 * door opens for the face; deletion on the hub revokes it there and the door stays shut.
 */
describe('gallery sync into a running edge agent (real hub, real agent, real models)', () => {
  const tmp = tempDir('warden-face-sync-');
  let hub: Hub;
  let token: string;
  let agent: EdgeAgent;
  let terminal: MqttClient;
  const results: Array<Record<string, unknown>> = [];
  let photo: Buffer;
  let probe: Buffer;
  const key = 'ab'.repeat(32);
  const galleryFile = () => join(tmp.dir, 'gallery.bin');

  const call = async (path: string, method = 'GET', body?: unknown) => {
    const res = await fetch(`${hub.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const pipeline = await FacePipeline.create({ liveness: false });
    const img = decodeImage(await readFile(join(packageDir('@vladmandic/face-api'), 'demo', 'sample3.jpg')));
    const [person] = (await pipeline.analyse(img)).filter((f) => f.quality.ok);
    await pipeline.close();
    photo = frame(img, person!, person!.box.width * 1.8);
    probe = frame(img, person!, person!.box.width * 2.3, person!.box.width * 0.15);

    hub = await startHub(
      parseHubConfig({
      gateways: [{ id: 'gw-dorm-7', password: 'gallery-sync-gateway-pw' }], devices: { registry: [{ id: 'face-dorm-7', gateway: 'gw-dorm-7', kind: 'face_terminal' }] }, // the hub owns the registry (issue 9): inventories only report
      http: { port: 0 }, mqtt: { port: 0 }, dataDir: join(tmp.dir, 'hub'), admin: { password: 'admin-password' }, dashboard: { dir: join(tmp.dir, 'no-dist') } }),
      { logger: false },
    );
    const { password } = await hub.provisionGateway('gw-dorm-7');
    token = ((await (await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'admin-password' }) })).json()) as { token: string }).token;
    expect((await call('/api/faces/gateways/gw-dorm-7', 'PUT', { dorms: ['dorm-7'], buildings: [], watchlist: false })).status).toBe(204);

    agent = await startEdgeAgent(
      parseEdgeConfig({
        gateway: { id: 'gw-dorm-7' },
        hub: { url: hub.mqttUrl, password, reconnectMs: 200 },
        field: { host: '127.0.0.1', port: 0, requireAuth: false }, // loopback bench; field auth: edge/test/field-security.test.ts
        outbox: { path: join(tmp.dir, 'outbox.db') },
        metrics: { enabled: false, statusIntervalSeconds: 1 },
        face: { enabled: true, gallery: galleryFile(), galleryKey: key },
        devices: [{ id: 'face-dorm-7', driver: 'face-terminal', options: { mode: 'dorm', direction: 'in' } }],
      }),
      { logger: silent },
    );
    terminal = await fieldDevice(agent.field.port, 'face-dorm-7');
    terminal.on('message', (_t, payload) => results.push(JSON.parse(payload.toString()) as Record<string, unknown>));
    await terminal.subscribeAsync('face/face-dorm-7/result', { qos: 1 });
    await eventually(() => agent.hubConnected(), 'agent connected to the hub');
  }, 90_000);

  afterAll(async () => {
    await terminal?.endAsync(true);
    await agent?.stop();
    await hub?.stop();
    tmp.remove();
  });

  const capture = async (body: Record<string, unknown>) => {
    const before = results.length;
    await terminal.publishAsync('face/face-dorm-7/capture', JSON.stringify(body), { qos: 1 });
    return eventually(() => results[before], 'a face result');
  };

  const version = async () => {
    const r = await call('/api/faces/gateways');
    return (r.body.gateways as Array<{ version: number; acked: number | null; members: number }>)[0]!;
  };

  let id: string;

  it('a resident enrolled on the hub is checked in by face and card at the dorm gateway', async () => {
    expect(await capture({ image: probe.toString('base64') })).toMatchObject({ result: 'DENY', reason: 'no_match' });
    const created = await call('/api/faces/persons', 'POST', { name: 'Resident', roles: ['student'], dorms: ['dorm-7'], credentials: ['CARD-7001'] });
    id = created.body.id as string;
    const enrol = await call(`/api/faces/persons/${id}/enrol`, 'POST', { photos: [photo.toString('base64')], consent: { givenBy: 'Resident', scope: 'dorm check-in' } });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(200);
    await eventually(async () => {
      const v = await version();
      return v.version > 0 && v.acked === v.version;
    }, 'the gateway acknowledges the new version');
    expect(await capture({ image: probe.toString('base64') })).toMatchObject({ result: 'CHECKIN', person: id });
    expect(await capture({ card: 'CARD-7001' })).toMatchObject({ result: 'CHECKIN', person: id });
    // The gateway's encrypted gallery file holds the person too (survives a restart).
    const saved = await loadGallery(galleryFile(), parseGalleryKey(key));
    expect(saved.has(id)).toBe(true);
    expect(saved.templateCount).toBe(1);
  }, 30_000);

  it('"not this person" on the hub changes the next decision at that terminal; the card still works', async () => {
    // The check-in the agent reported reaches the hub as an event; the operator says it was someone else.
    const ev = await eventually(async () => {
      const r = await call('/api/events?device=face-dorm-7&type=attendance.checkin');
      const events = r.body.events as Array<{ id: string; data: { method: string; score?: number } }>;
      return events.find((e) => e.data.method === 'face');
    }, 'the face check-in stored on the hub');
    const before = await version();
    const c = await call(`/api/faces/sightings/${ev!.id}/correct`, 'POST', { notPerson: true, note: 'twin brother' });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.threshold).toBeCloseTo(Math.min(1, ev!.data.score! + 0.01), 6);
    await eventually(async () => {
      const v = await version();
      return v.version > before.version && v.acked === v.version;
    }, 'the gateway acknowledges the correction');
    // The same face at the same terminal no longer matches that person.
    expect(await capture({ image: probe.toString('base64') })).toMatchObject({ result: 'DENY', reason: 'no_match' });
    expect(await capture({ card: 'CARD-7001' })).toMatchObject({ result: 'CHECKIN', person: id });
  }, 30_000);

  it('deletion on the hub revokes the person at the gateway: face and card are refused', async () => {
    expect((await call(`/api/faces/persons/${id}`, 'DELETE')).status).toBe(204);
    await eventually(async () => {
      const v = await version();
      return v.acked === v.version && v.members === 0;
    }, 'the gateway acknowledges the deletion');
    expect(await capture({ image: probe.toString('base64') })).toMatchObject({ result: 'DENY', reason: 'no_match' });
    expect(await capture({ card: 'CARD-7001' })).toMatchObject({ result: 'DENY', reason: 'unknown_credential' });
    const saved = await loadGallery(galleryFile(), parseGalleryKey(key));
    expect(saved.has(id)).toBe(false);
    expect(saved.isRevoked(id)).toBe(true);
  }, 30_000);
});
