import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit.ts';
import { FaceAdmin } from '../../src/faces/service.ts';
import { openStateDb, type StateDb } from '../../src/store/state-db.ts';

const DAY = 86_400_000;

describe('face retention (real SQLite, injected clock)', () => {
  let dir: string;
  let db: StateDb;
  let now: number;
  let faces: FaceAdmin;
  const published: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'warden-face-retention-'));
    db = openStateDb(path.join(dir, 'state.db'));
    now = Date.UTC(2026, 0, 1);
    faces = new FaceAdmin({
      db,
      dataDir: dir,
      config: { recogniser: 'faceapi-recognition', retentionDays: 30, maxPhotoBytes: 1 << 20, maxPhotos: 5, dormManagers: {} },
      audit: new AuditLog(db),
      publish: async (topic) => void published.push(topic),
      isConnected: () => true,
      log: pino({ enabled: false }),
      now: () => now,
    });
  });

  afterEach(async () => {
    await faces.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A person with a consent record and one sealed template, without running the models. */
  async function enrolled(name: string): Promise<string> {
    const p = await faces.create('admin', { name, dorms: ['d1'] });
    faces.repo.addConsent({ person: p.id, givenBy: name, givenAt: now, scope: 'dorm', recordedBy: 'admin' });
    const t = new Float32Array(128).fill(0.1);
    const { TemplateCipher } = await import('../../src/faces/crypto.ts');
    faces.repo.addTemplate(p.id, 'faceapi-recognition', TemplateCipher.open(dir).seal(p.id, t), now);
    return p.id;
  }

  it('deletes templates retentionDays after a person leaves or withdraws consent, not before, and audits it', async () => {
    const leaver = await enrolled('Leaver');
    const withdrawer = await enrolled('Withdrawer');
    const stayer = await enrolled('Stayer');
    await faces.leave('admin', leaver);
    await faces.withdrawConsent('admin', withdrawer);

    now += 29 * DAY;
    expect(await faces.retention()).toEqual([]);
    expect(faces.get(leaver).templates).toBe(1);

    now += 2 * DAY;
    expect((await faces.retention()).sort()).toEqual([leaver, withdrawer].sort());
    expect(faces.get(leaver).templates).toBe(0);
    expect(faces.get(withdrawer).templates).toBe(0);
    expect(faces.get(stayer).templates).toBe(1);
    // The consent record itself stays (it is the proof of what was agreed and when it ended).
    expect(faces.get(withdrawer).consents[0]!.withdrawnAt).toBe(now - 31 * DAY);
    expect(new AuditLog(db).list(100).filter((e) => e.action === 'face.templates_expired').map((e) => e.target).sort()).toEqual([leaver, withdrawer].sort());
    // Running again finds nothing more.
    expect(await faces.retention()).toEqual([]);
  });

  it('a template row moved to another person does not decrypt (person id is authenticated)', async () => {
    const a = await enrolled('A');
    const b = await enrolled('B');
    db.prepare('UPDATE face_templates SET person = ? WHERE person = ?').run(b, a);
    await faces.setScope('admin', { gateway: 'gw1', dorms: ['d1'], buildings: [], watchlist: false });
    expect(() => faces.sync.entry(faces.repo.person(b)!)).toThrow();
  });
});
