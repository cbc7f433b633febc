import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Gallery } from '@warden/edge/face/gallery.ts';
import { saveGallery } from '@warden/edge/face/store.ts';
import { GallerySyncClient } from '@warden/edge/face/sync.ts';
import { AuditLog } from '@warden/hub/audit.ts';
import { TemplateCipher } from '@warden/hub/faces/crypto.ts';
import { FaceAdmin } from '@warden/hub/faces/service.ts';
import { openStateDb, type StateDb } from '@warden/hub/store/state-db.ts';

/** Gallery deltas without the network: large deltas in parts, stale and foreign deltas refused, reset. */
describe('gallery deltas (hub GallerySync -> edge GallerySyncClient)', () => {
  let dir: string;
  let db: StateDb;
  let faces: FaceAdmin;
  let gallery: Gallery;
  let client: GallerySyncClient;
  const refused: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'warden-face-parts-'));
    db = openStateDb(path.join(dir, 'state.db'));
    faces = new FaceAdmin({
      db,
      dataDir: dir,
      config: { recogniser: 'faceapi-recognition', retentionDays: 30, maxPhotoBytes: 1 << 20, maxPhotos: 5, dormManagers: {} },
      audit: new AuditLog(db),
      publish: async () => {},
      isConnected: () => false,
      log: pino({ enabled: false }),
    });
    gallery = new Gallery(128);
    const key = Buffer.alloc(32, 3);
    client = new GallerySyncClient({
      gatewayId: 'gw-big',
      gallery,
      model: 'faceapi-recognition',
      save: () => saveGallery(path.join(dir, 'g.bin'), gallery, key),
      stateFile: path.join(dir, 'g.sync.json'),
      refuse: (reason, fields) => void refused.push(`${reason}: ${String(fields.detail)}`),
      registry: new Registry(),
      logger: pino({ enabled: false }),
    });
    await faces.setScope('admin', { gateway: 'gw-big', dorms: ['big'], buildings: [], watchlist: false });
  });

  afterEach(async () => {
    await faces.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function people(n: number): Promise<string[]> {
    const cipher = TemplateCipher.open(dir);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const p = await faces.create('admin', { name: `p${i}`, dorms: ['big'], credentials: [`card-${i}`] });
      faces.repo.addConsent({ person: p.id, givenBy: p.name, givenAt: Date.now(), scope: 'dorm', recordedBy: 'admin' });
      const t = Float32Array.from({ length: 128 }, (_, k) => Math.cos(i * 0.37 + k));
      faces.repo.addTemplate(p.id, 'faceapi-recognition', cipher.seal(p.id, t), Date.now());
      ids.push(p.id);
    }
    await faces.sync.changed(ids);
    return ids;
  }

  it('splits a large delta into parts under the packet limit; the version moves only after the last part', async () => {
    const ids = await people(500);
    const deltas = faces.sync.deltas('gw-big', 0);
    expect(deltas.length).toBeGreaterThan(1);
    for (const d of deltas) expect(JSON.stringify(d).length).toBeLessThan(300 * 1024);
    expect(deltas.every((d) => d.reset && d.parts === deltas.length)).toBe(true);
    for (const [i, d] of deltas.entries()) {
      const r = await client.handle(Buffer.from(JSON.stringify(d)));
      expect(r).toBe(i === deltas.length - 1 ? 'applied' : 'partial');
      expect(client.version).toBe(i === deltas.length - 1 ? d.to : 0);
    }
    expect(gallery.personCount).toBe(500);
    expect(gallery.templateCount).toBe(500);
    expect(gallery.credentialOwner('card-42')?.id).toBe(ids[42]);
    // A redelivered first part (a reset) is stale now: it must not clear what the later parts added.
    expect(await client.handle(Buffer.from(JSON.stringify(deltas[0])))).toBe('stale');
    expect(gallery.personCount).toBe(500);
  });

  it('applies an incremental delta only on its base, refuses another gateway or model, and survives a restart', async () => {
    const ids = await people(3);
    const [full] = faces.sync.deltas('gw-big', 0);
    expect(await client.handle(Buffer.from(JSON.stringify(full)))).toBe('applied');
    const v = client.version;
    await faces.update('admin', ids[1]!, { credentials: ['card-new'] });
    await faces.remove('admin', ids[2]!);
    const [inc] = faces.sync.deltas('gw-big', v);
    expect(inc).toMatchObject({ base: v, to: v + 2, reset: false });
    expect(inc!.upsert.map((p) => p.id)).toEqual([ids[1]]);
    expect(inc!.revoke).toEqual([ids[2]]);
    // A delta from an older base is stale: dropped, nothing changes.
    const [stale] = faces.sync.deltas('gw-big', v - 1);
    expect(await client.handle(Buffer.from(JSON.stringify({ ...stale, reset: false })))).toBe('stale');
    expect(await client.handle(Buffer.from(JSON.stringify({ ...inc, gw: 'gw-other' })))).toBe('refused');
    expect(await client.handle(Buffer.from(JSON.stringify({ ...inc, model: 'faceres' })))).toBe('refused');
    expect(await client.handle(Buffer.from('{not json'))).toBe('refused');
    expect(refused.join('\n')).toMatch(/gw-other[\s\S]*faceres/);
    expect(await client.handle(Buffer.from(JSON.stringify(inc)))).toBe('applied');
    expect(client.version).toBe(v + 2);
    expect(gallery.credentialOwner('card-new')?.id).toBe(ids[1]);
    expect(gallery.isRevoked(ids[2]!)).toBe(true);
    // A restarted gateway reads its version back from the state file.
    const again = new GallerySyncClient({ ...(client as unknown as { o: ConstructorParameters<typeof GallerySyncClient>[0] }).o, registry: new Registry() });
    expect(again.version).toBe(v + 2);
  });
});
