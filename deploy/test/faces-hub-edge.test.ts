import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayTopic, newId } from '@warden/contract';
import { decideFace, type PointPolicy } from '@warden/edge/face/decide.ts';
import { policyForMatch } from '@warden/edge/face/sync.ts';
import { FacePipeline, decodeImage, type FaceResult } from '@warden/models';
import { FakeGatewayBatches, api, connectGateway, eventually, inventory, login, registered, testHub, type TestHub } from '../../hub/test/helpers.ts';
import { FACES_DIR, HAVE_FACES, packageFacePhotos, syncedGateway, type SyncedGateway } from './faces-helpers.ts';

interface PersonBody {
  id: string;
  name: string;
  templates: number;
  credentials: string[];
  watchlist: boolean;
  consent: { givenBy: string; withdrawnAt: number | null } | null;
  leftAt: number | null;
}

const b64 = (b: Buffer) => b.toString('base64');

describe('face enrolment and gallery sync (real hub, real MQTT gateways)', () => {
  let t: TestHub;
  let admin: string;
  let pipeline: FacePipeline;
  let photos: Buffer[];
  const gws: Record<string, SyncedGateway> = {};
  const passwords: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await testHub({
      users: [
        { username: 'warden-a', roles: ['dorm'], password: 'dorm-a-password' },
        { username: 'guard', roles: ['security'], password: 'guard-password' },
      ],
      faces: { dormManagers: { 'warden-a': ['dorm-a'] } },
      // The gate's trajectory camera is in the hub's registry (issue 9: inventories only report).
      ...registered({ 'gw-gate': { password: 'gate-gateway-password', devices: [{ id: 'gate-cam-1', kind: 'face_terminal' }] } }),
    });
    admin = await login(t.hub);
    pipeline = await FacePipeline.create({ liveness: false });
    photos = await packageFacePhotos(pipeline);
    expect(photos.length).toBeGreaterThanOrEqual(2);
    for (const gw of ['gw-dorm-a', 'gw-dorm-b', 'gw-lab', 'gw-gate']) passwords[gw] = (await t.hub.provisionGateway(gw)).password;
    const scopes: Record<string, { dorms: string[]; buildings: string[]; watchlist: boolean }> = {
      'gw-dorm-a': { dorms: ['dorm-a'], buildings: [], watchlist: false },
      'gw-dorm-b': { dorms: ['dorm-b'], buildings: [], watchlist: false },
      'gw-lab': { dorms: [], buildings: ['lab-1'], watchlist: false },
      'gw-gate': { dorms: [], buildings: [], watchlist: true },
    };
    for (const [gw, scope] of Object.entries(scopes)) {
      expect((await api(t.hub, admin, `/api/faces/gateways/${gw}`, { method: 'PUT', body: scope })).status).toBe(204);
      gws[gw] = await syncedGateway(t.hub.mqttUrl, gw, passwords[gw]!);
    }
  }, 60_000);

  afterAll(async () => {
    for (const g of Object.values(gws)) await g.close();
    await pipeline?.close();
    await t?.close();
  });

  it('enrols from real photos on the hub: the template reaches only the dorm gateway, and matches the face there', async () => {
    const created = await api<PersonBody>(t.hub, admin, '/api/faces/persons', { method: 'POST', body: { name: 'Resident One', roles: ['student'], dorms: ['dorm-a'], credentials: ['card-1001'] } });
    expect(created.status).toBe(201);
    ids.one = created.body.id;
    // Face enrolment without consent is refused.
    const noConsent = await api(t.hub, admin, `/api/faces/persons/${ids.one}/enrol`, { method: 'POST', body: { photos: [b64(photos[0]!)] } });
    expect(noConsent.status).toBe(400);
    const enrolled = await api<PersonBody>(t.hub, admin, `/api/faces/persons/${ids.one}/enrol`, {
      method: 'POST',
      body: { photos: [`data:image/png;base64,${b64(photos[0]!)}`], consent: { givenBy: 'Resident One', scope: 'dorm check-in' } },
    });
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
    expect(enrolled.body.templates).toBe(1);
    expect(enrolled.body.consent?.givenBy).toBe('Resident One');

    const dormA = gws['gw-dorm-a']!;
    await eventually(() => dormA.gallery.templateCount === 1, 'template at gw-dorm-a');
    expect(dormA.gallery.credentialOwner('card-1001')?.id).toBe(ids.one);
    for (const gw of ['gw-dorm-b', 'gw-lab', 'gw-gate']) expect(gws[gw]!.gallery.has(ids.one!), gw).toBe(false);

    // The same photo through the edge's pipeline matches the synced template (same models on hub and edge).
    const [face] = await pipeline.analyse(decodeImage(photos[0]!), { maxFaces: 1 });
    const match = dormA.gallery.search(face!.embedding!, 1)[0]!;
    expect(match.person).toBe(ids.one);
    expect(match.score).toBeGreaterThan(0.99);
    // Another person's face scores clearly lower (faceapi-recognition's different-person cosines are high: ~0.85 mean).
    const [other] = await pipeline.analyse(decodeImage(photos[1]!), { maxFaces: 1 });
    expect(dormA.gallery.search(other!.embedding!, 1)[0]!.score).toBeLessThan(0.95);
    // The gateway reported the version it holds.
    const state = await eventually(async () => {
      const r = await api<{ gateways: Array<{ gateway: string; version: number; acked: number | null }> }>(t.hub, admin, '/api/faces/gateways');
      const s = r.body.gateways.find((g) => g.gateway === 'gw-dorm-a')!;
      return s.acked === s.version && s.version > 0 ? s : undefined;
    }, 'gw-dorm-a acknowledges its version');
    expect(state.version).toBe(dormA.sync.version);
  }, 60_000);

  it('a gateway may read its own gallery channel only (broker ACL)', async () => {
    // The hub assigns each gateway one client id (warden-edge-<id>), so gw-dorm-b tries from its own session.
    const other = gws['gw-dorm-b']!.client;
    {
      // SUBACK 0x80: mqtt.js turns the refusal into a rejected promise.
      await expect(other.subscribeAsync(gatewayTopic('gw-dorm-a', 'gallery'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
      await expect(other.subscribeAsync('warden/v1/gw/+/gallery', { qos: 1 })).rejects.toThrow(/Subscribe error/);
      const own = await other.subscribeAsync(gatewayTopic('gw-dorm-b', 'gallery'), { qos: 1 });
      expect(own[0]!.qos).toBe(1);
    }
  });

  it('keeps templates encrypted at rest and no photo anywhere in the data dir', async () => {
    const snap = gws['gw-dorm-a']!.gallery.snapshot();
    const plain = Buffer.from(snap.templates.buffer, snap.templates.byteOffset, snap.templates.byteLength);
    const files = readdirSync(t.dataDir).filter((f) => f.startsWith('state.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(path.join(t.dataDir, f));
      for (let off = 0; off + 16 <= plain.length; off += 64) expect(bytes.indexOf(plain.subarray(off, off + 16)), `${f} holds template bytes`).toBe(-1);
      expect(bytes.indexOf(photos[0]!.subarray(0, 64)), `${f} holds the photo`).toBe(-1);
      expect(bytes.indexOf(Buffer.from(b64(photos[0]!).slice(0, 64))), `${f} holds the photo as base64`).toBe(-1);
    }
    // The template key is outside the data dir (issue 9): beside it by default, never inside.
    const keyFile = `${t.dataDir}.faces-key`;
    const { statSync } = await import('node:fs');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // The one key kept in the data dir is the live-view ticket signing key, beside the JWT secret it is like (hub/README.md,
    // "Relay nodes and view tickets"): session and view signing, not the face templates' protection.
    expect(readdirSync(t.dataDir).filter((f) => /key/i.test(f) && !/^video-ticket\.(key|pub)$/.test(f))).toEqual([]);
    expect(readdirSync(t.dataDir).filter((f) => /\.(png|jpe?g)$/i.test(f))).toEqual([]);
  });

  it('card-only enrolment reaches lab gateways by building; incremental updates move the version by one', async () => {
    const r = await api<PersonBody>(t.hub, admin, '/api/faces/persons', { method: 'POST', body: { name: 'Staff Two', roles: ['staff'], buildings: ['lab-1'], credentials: ['qr-2002'] } });
    expect(r.status).toBe(201);
    ids.two = r.body.id;
    const lab = gws['gw-lab']!;
    await eventually(() => lab.gallery.credentialOwner('qr-2002')?.id === ids.two, 'card-only person at gw-lab');
    expect(lab.gallery.templateCount).toBe(0);
    const before = await eventually(() => (lab.sync.version > 0 ? lab.sync.version : undefined), 'lab version');

    const upd = await api<PersonBody>(t.hub, admin, `/api/faces/persons/${ids.two}`, { method: 'PATCH', body: { credentials: ['qr-2003'] } });
    expect(upd.status).toBe(200);
    await eventually(() => lab.gallery.credentialOwner('qr-2003')?.id === ids.two, 'updated credential at gw-lab');
    expect(lab.gallery.credentialOwner('qr-2002')).toBeUndefined();
    await eventually(() => lab.sync.version === before + 1, `lab version ${before + 1}`);
  });

  it('the watch-list goes to trajectory gateways only; taking someone off revokes them there', async () => {
    const r = await api<PersonBody>(t.hub, admin, '/api/faces/persons', { method: 'POST', body: { name: 'Visitor Three' } });
    ids.three = r.body.id;
    await api(t.hub, admin, `/api/faces/persons/${ids.three}/enrol`, { method: 'POST', body: { photos: [b64(photos[1]!)], consent: { givenBy: 'campus security order 17', scope: 'watch-list' } } });
    const guard = await login(t.hub, 'guard', 'guard-password');
    expect((await api(t.hub, guard, `/api/faces/persons/${ids.three}/watchlist`, { method: 'PUT', body: { on: true, note: 'trespass' } })).status).toBe(200);
    const gate = gws['gw-gate']!;
    await eventually(() => gate.gallery.person(ids.three!)?.watchlist === true, 'watch-list entry at gw-gate');
    expect(gate.gallery.templateCount).toBe(1);
    for (const gw of ['gw-dorm-a', 'gw-dorm-b', 'gw-lab']) expect(gws[gw]!.gallery.has(ids.three!), gw).toBe(false);
    expect((await api(t.hub, guard, `/api/faces/persons/${ids.three}/watchlist`, { method: 'PUT', body: { on: false } })).status).toBe(200);
    await eventually(() => !gate.gallery.has(ids.three!), 'watch-list entry revoked at gw-gate');
    expect(gate.gallery.isRevoked(ids.three!)).toBe(true);
    expect(gate.gallery.templateCount).toBe(0);
  });

  it('roles: a dorm manager enrols only in their dorms; security cannot enrol; admin sees the audit trail', async () => {
    const dormA = await login(t.hub, 'warden-a', 'dorm-a-password');
    expect((await api(t.hub, dormA, '/api/faces/persons', { method: 'POST', body: { name: 'X', dorms: ['dorm-a'] } })).status).toBe(201);
    expect((await api(t.hub, dormA, '/api/faces/persons', { method: 'POST', body: { name: 'Y', dorms: ['dorm-b'] } })).status).toBe(403);
    // A dorm manager lists the residents of their dorms only.
    const seen = await api<{ persons: PersonBody[] }>(t.hub, dormA, '/api/faces/persons');
    expect(seen.body.persons.length).toBeGreaterThan(0);
    expect(seen.body.persons.every((p) => (p as unknown as { dorms: string[] }).dorms.includes('dorm-a'))).toBe(true);
    expect((await api(t.hub, dormA, `/api/faces/persons/${ids.two}`)).status).toBe(403);
    expect((await api(t.hub, dormA, `/api/faces/persons/${ids.two}`, { method: 'DELETE' })).status).toBe(403);
    const guard = await login(t.hub, 'guard', 'guard-password');
    expect((await api(t.hub, guard, '/api/faces/persons', { method: 'POST', body: { name: 'Z', dorms: ['dorm-a'] } })).status).toBe(403);
    expect((await api(t.hub, null, '/api/faces/persons')).status).toBe(401);
    const audit = await api<{ entries: Array<{ action: string; actor: string; detail: Record<string, unknown> }> }>(t.hub, admin, '/api/audit?limit=1000');
    const actions = new Set(audit.body.entries.map((e) => e.action));
    for (const a of ['face.person_create', 'face.enrol', 'face.consent_record', 'face.watchlist_add', 'face.watchlist_remove', 'face.gateway_scope']) expect(actions, a).toContain(a);
    expect(JSON.stringify(audit.body.entries)).not.toMatch(/base64|iVBOR/);
  });

  it('a gateway that was offline catches up from the version it holds when it reconnects', async () => {
    const b = gws['gw-dorm-b']!;
    await b.close();
    const r = await api<PersonBody>(t.hub, admin, '/api/faces/persons', { method: 'POST', body: { name: 'Resident Four', dorms: ['dorm-b'], credentials: ['card-4004'] } });
    ids.four = r.body.id;
    expect(b.gallery.has(ids.four)).toBe(false);
    gws['gw-dorm-b'] = await syncedGateway(t.hub.mqttUrl, 'gw-dorm-b', passwords['gw-dorm-b']!, b);
    await eventually(() => gws['gw-dorm-b']!.gallery.credentialOwner('card-4004')?.id === ids.four, 'catch-up at gw-dorm-b');
  });

  it('deletion removes the person from the hub and from every gateway that held them', async () => {
    // Resident One also joins lab-1: now two gateways hold them.
    await api(t.hub, admin, `/api/faces/persons/${ids.one}`, { method: 'PATCH', body: { buildings: ['lab-1'] } });
    await eventually(() => gws['gw-lab']!.gallery.has(ids.one!) && gws['gw-lab']!.gallery.templateCount === 1, 'Resident One at gw-lab');
    expect((await api(t.hub, admin, `/api/faces/persons/${ids.one}`, { method: 'DELETE' })).status).toBe(204);
    for (const gw of ['gw-dorm-a', 'gw-lab']) {
      await eventually(() => !gws[gw]!.gallery.has(ids.one!), `deletion at ${gw}`);
      expect(gws[gw]!.gallery.isRevoked(ids.one!)).toBe(true);
      expect(gws[gw]!.gallery.credentialOwner('card-1001')).toBeUndefined();
    }
    expect(gws['gw-dorm-a']!.gallery.templateCount).toBe(0);
    expect((await api(t.hub, admin, `/api/faces/persons/${ids.one}`)).status).toBe(404);
  });

  it('consent withdrawal stops face use at the gateway at once; the card keeps working', async () => {
    const r = await api<PersonBody>(t.hub, admin, '/api/faces/persons', { method: 'POST', body: { name: 'Resident Five', dorms: ['dorm-a'], credentials: ['card-5005'] } });
    ids.five = r.body.id;
    await api(t.hub, admin, `/api/faces/persons/${ids.five}/enrol`, { method: 'POST', body: { photos: [b64(photos[1]!)], consent: { givenBy: 'Resident Five', scope: 'dorm check-in' } } });
    const a = gws['gw-dorm-a']!;
    await eventually(() => a.gallery.has(ids.five!) && a.gallery.templateCount === 1, 'Resident Five template');
    const w = await api<PersonBody>(t.hub, admin, `/api/faces/persons/${ids.five}/consent/withdraw`, { method: 'POST' });
    expect(w.status).toBe(200);
    expect(w.body.consent).toBeNull();
    await eventually(() => a.gallery.templateCount === 0, 'template withdrawn at gw-dorm-a');
    expect(a.gallery.credentialOwner('card-5005')?.id).toBe(ids.five);
  });

  it('"not this person": the correction raises that person\'s threshold at that point and changes the next decision', async () => {
    // Visitor Three goes back on the watch-list; a trajectory camera at the gate reports a sighting of them.
    const guard = await login(t.hub, 'guard', 'guard-password');
    await api(t.hub, guard, `/api/faces/persons/${ids.three}/watchlist`, { method: 'PUT', body: { on: true } });
    const gate = gws['gw-gate']!;
    await eventually(() => gate.gallery.person(ids.three!)?.watchlist === true && gate.gallery.templateCount === 1, 'watch-list entry back at gw-gate');

    const up: MqttClient = gate.client;
    await up.publishAsync(gatewayTopic('gw-gate', 'inventory'), inventory('gw-gate', [{ id: 'gate-cam-1', kind: 'face_terminal' }]), { qos: 1, retain: true });
    const fake = new FakeGatewayBatches('gw-gate');
    const ev = fake.event('gate-cam-1', 'face.watchlist', { person: ids.three, score: 0.95 });
    await up.publishAsync(gatewayTopic('gw-gate', 'up'), fake.batch([ev]), { qos: 1 });
    await eventually(async () => (await api<{ events: unknown[] }>(t.hub, admin, `/api/events?device=gate-cam-1`)).body.events.length > 0, 'sighting stored');

    const policy: PointPolicy = { mode: 'trajectory', threshold: 0.92, direction: 'in', minReal: 0 };
    const face = { quality: { ok: true, reasons: [] }, embedding: new Float32Array(128), liveness: null } as unknown as FaceResult;
    const match = { person: ids.three!, score: 0.95, watchlist: true };
    expect(decideFace(policyForMatch(policy, gate.sync.threshold(ids.three!, 'gate-cam-1')), face, match).result).toBe('WATCHLIST');

    const c = await api<{ threshold: number; person: string }>(t.hub, guard, `/api/faces/sightings/${ev.id}/correct`, { method: 'POST', body: { notPerson: true, note: 'different man' } });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.person).toBe(ids.three);
    expect(c.body.threshold).toBeCloseTo(0.96, 6);
    await eventually(() => gate.sync.threshold(ids.three!, 'gate-cam-1') !== undefined, 'threshold at gw-gate');
    // The same look-alike at 0.95 is now a stranger at that camera; a closer match still hits.
    expect(decideFace(policyForMatch(policy, gate.sync.threshold(ids.three!, 'gate-cam-1')), face, match).result).toBe('STRANGER');
    expect(decideFace(policyForMatch(policy, gate.sync.threshold(ids.three!, 'gate-cam-1')), face, { ...match, score: 0.97 }).result).toBe('WATCHLIST');
    // Another camera is unaffected.
    expect(decideFace(policyForMatch(policy, gate.sync.threshold(ids.three!, 'gate-cam-2')), face, match).result).toBe('WATCHLIST');
    // An event that is not a face match cannot be corrected.
    const bad = fake.event('gate-cam-1', 'face.stranger', {});
    await up.publishAsync(gatewayTopic('gw-gate', 'up'), fake.batch([bad]), { qos: 1 });
    await eventually(async () => (await api<{ events: unknown[] }>(t.hub, admin, `/api/events?device=gate-cam-1`)).body.events.length > 1, 'stranger stored');
    expect((await api(t.hub, guard, `/api/faces/sightings/${bad.id}/correct`, { method: 'POST', body: { notPerson: true } })).status).toBe(400);
    expect((await api(t.hub, guard, `/api/faces/sightings/${newId()}/correct`, { method: 'POST', body: { notPerson: true } })).status).toBe(404);
  });

  it('refuses a photo without a face and a body over the route limit, with clear errors', async () => {
    const r = await api<PersonBody>(t.hub, admin, '/api/faces/persons', { method: 'POST', body: { name: 'Blank' } });
    const { PNG } = await import('pngjs');
    const blank = new PNG({ width: 200, height: 200 });
    blank.data.fill(200);
    const res = await api<{ error: { message: string } }>(t.hub, admin, `/api/faces/persons/${r.body.id}/enrol`, {
      method: 'POST',
      body: { photos: [b64(PNG.sync.write(blank))], consent: { givenBy: 'x', scope: 'y' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/no face/);
    const notImage = await api<{ error: { message: string } }>(t.hub, admin, `/api/faces/persons/${r.body.id}/enrol`, { method: 'POST', body: { photos: [b64(Buffer.alloc(100, 1))], consent: { givenBy: 'x', scope: 'y' } } });
    expect(notImage.status).toBe(400);
    expect(notImage.body.error.message).toMatch(/photo 1/);
    const huge = await api(t.hub, admin, `/api/faces/persons/${r.body.id}/enrol`, { method: 'POST', body: { photos: ['A'.repeat(9 * 1024 * 1024)] } });
    expect(huge.status).toBe(413);
    // Other routes keep the small limit.
    expect((await api(t.hub, admin, '/api/faces/persons', { method: 'POST', body: { name: 'N'.repeat(100), roles: ['x'.repeat(64)], pad: 'p'.repeat(100_000) } })).status).toBe(413);
  });

  it.skipIf(!HAVE_FACES)(`enrols from the labelled photos in ${FACES_DIR} and identifies the other photos of each person`, async () => {
    const people = readdirSync(FACES_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).slice(0, 4);
    const enrolled: Record<string, string> = {};
    for (const name of people) {
      const r = await api<PersonBody>(t.hub, admin, '/api/faces/persons', { method: 'POST', body: { name, dorms: ['dorm-b'] } });
      const files = readdirSync(path.join(FACES_DIR, name)).sort();
      const e = await api<PersonBody>(t.hub, admin, `/api/faces/persons/${r.body.id}/enrol`, {
        method: 'POST',
        body: { photos: files.slice(0, 2).map((f) => b64(readFileSync(path.join(FACES_DIR, name, f)))), consent: { givenBy: name, scope: 'test' } },
      });
      expect(e.status, `${name}: ${JSON.stringify(e.body)}`).toBe(200);
      enrolled[r.body.id] = name;
    }
    const b = gws['gw-dorm-b']!;
    await eventually(() => Object.keys(enrolled).every((id) => b.gallery.has(id)) && b.gallery.templateCount === people.length * 2, 'labelled people at gw-dorm-b');
    let correct = 0;
    let total = 0;
    for (const name of people) {
      for (const f of readdirSync(path.join(FACES_DIR, name)).sort().slice(2)) {
        const emb = await pipeline.embedCrop(decodeImage(readFileSync(path.join(FACES_DIR, name, f))));
        total++;
        if (enrolled[b.gallery.search(emb, 1)[0]!.person] === name) correct++;
      }
    }
    console.log(`labelled faces: rank-1 ${correct}/${total} with templates enrolled through the hub`);
    expect(correct / total).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});

it.skipIf(HAVE_FACES)('labelled photos', () => {
  console.log(`labelled face photos not found at ${FACES_DIR}; the labelled-photo enrolment test is skipped`);
});
