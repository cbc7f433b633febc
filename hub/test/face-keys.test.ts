import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeTemplate, gatewayTopic } from '@warden/contract';
import { AuditLog } from '../src/audit.ts';
import { ConfigError, parseHubConfig } from '../src/config.ts';
import { TemplateCipher } from '../src/faces/crypto.ts';
import { rotateFaceKey, runFaceKeyGen } from '../src/faces/keys-cli.ts';
import { defaultKeyFile, keyIdOf, type FaceKeysConfig } from '../src/faces/keys.ts';
import { FaceAdmin } from '../src/faces/service.ts';
import { openStateDb, type StateDb } from '../src/store/state-db.ts';
import { api, connectGateway, login, status, testHub } from './helpers.ts';

/** Issue 9: face-template keys outside the data dir (env, key file, KMS-style command), key ids, rotation, restore without the key. */

const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));
const FACES = { recogniser: 'faceapi-recognition' as const, retentionDays: 30, maxPhotoBytes: 1 << 20, maxPhotos: 5, dormManagers: {} };
const keys = (k: Partial<FaceKeysConfig>): FaceKeysConfig => ({ previous: [], generate: true, allowInsideDataDir: false, ...k });
const template = (seed: number) => Float32Array.from({ length: 128 }, (_, i) => Math.sin(seed * 31 + i));

describe('face keys (real SQLite)', () => {
  let root: string;
  let dataDir: string;
  let db: StateDb;
  const admins: FaceAdmin[] = [];
  let logs: string[];

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'warden-face-keys-'));
    dataDir = path.join(root, 'hub');
    mkdirSync(dataDir);
    db = openStateDb(path.join(dataDir, 'state.db'));
    logs = [];
  });
  afterEach(async () => {
    for (const a of admins.splice(0)) await a.close();
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  function admin(k: FaceKeysConfig, env: NodeJS.ProcessEnv = {}): FaceAdmin {
    const a = new FaceAdmin({
      db,
      dataDir,
      config: { ...FACES, keys: k },
      audit: new AuditLog(db),
      publish: async () => {},
      isConnected: () => false,
      log: pino({ level: 'info' }, { write: (l: string) => void logs.push(l) }),
      env,
    });
    admins.push(a);
    return a;
  }

  /** A consented person with sealed templates, as enrolment stores them (without running the models). */
  async function enrolled(a: FaceAdmin, cipher: TemplateCipher, n = 2): Promise<string> {
    const p = await a.create('admin', { name: `P${Math.random()}`, dorms: ['d1'] });
    a.repo.addConsent({ person: p.id, givenBy: 'self', givenAt: 1, scope: 'dorm', recordedBy: 'admin' });
    for (let i = 0; i < n; i++) a.repo.addTemplate(p.id, 'faceapi-recognition', cipher.seal(p.id, template(i)), 1);
    return p.id;
  }

  const keyIds = () => db.prepare<[], { k: string | null }>('SELECT key_id AS k FROM face_templates ORDER BY id').all().map((r) => r.k);

  it('env key: templates sealed under its id (stored with each row), read back by the hub; nothing of the key in the data dir', async () => {
    const key = randomBytes(32);
    const env = { WARDEN_FACE_KEY: key.toString('base64') };
    const k = keys({ current: { env: 'WARDEN_FACE_KEY' } });
    const a = admin(k, env);
    expect(a.keyStatus()).toMatchObject({ current: keyIdOf(key), problems: [] });
    const id = await enrolled(a, TemplateCipher.open(dataDir, k, { env }));
    expect(keyIds()).toEqual([keyIdOf(key), keyIdOf(key)]);
    const entry = a.sync.entry(a.repo.person(id)!);
    expect(entry.templates).toHaveLength(2);
    // Nothing key-like was created in or beside the data dir, and the key bytes are in no file there.
    expect(readdirSync(dataDir).filter((f) => /key/i.test(f))).toEqual([]);
    expect(existsSync(defaultKeyFile(dataDir))).toBe(false);
    for (const f of readdirSync(dataDir)) expect(readFileSync(path.join(dataDir, f)).indexOf(key)).toBe(-1);
    // Unset variable: the hub runs on, says why, and refuses to store templates.
    const none = admin(k, {});
    expect(none.keyStatus().current).toBeNull();
    expect(none.keyStatus().problems.join()).toContain('env WARDEN_FACE_KEY: the variable is not set');
    expect(none.sync.entry.bind(none.sync, none.repo.person(id)!)).toThrow(`key id ${keyIdOf(key)} missing`);
  });

  it('key file: relative to the config file, refused inside the data dir with a clear error unless allowed (demos)', () => {
    const inside = path.join(dataDir, 'face.key');
    const err = (() => {
      try {
        parseHubConfig({ dataDir, faces: { keys: { current: { file: inside } } } });
      } catch (e) {
        return e as ConfigError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain(`/faces/keys/current/file: ${inside} is inside the data dir`);
    expect(() => parseHubConfig({ dataDir, faces: { keys: { current: { file: inside }, allowInsideDataDir: true } } })).not.toThrow();
    expect(() => parseHubConfig({ dataDir, faces: { keys: { previous: [{ env: 'A', file: '/k' }] } } })).toThrow('/faces/keys/previous/0: give exactly one of env, file or command (got 2)');
    const cfg = parseHubConfig({ dataDir, faces: { keys: { current: { file: 'secrets/face.key' } } } }, {}, { baseDir: root });
    expect(cfg.faces.keys.current?.file).toBe(path.join(root, 'secrets/face.key'));
    // A relative path that lands inside the data dir is refused too.
    expect(() => parseHubConfig({ dataDir: 'hub', faces: { keys: { current: { file: 'hub/k' } } } }, {}, { baseDir: root })).toThrow('is inside the data dir');
  });

  it('KMS-style command: its stdout is the key (with a configured id); a failing command leaves the hub running and enrolment refused with the reason', async () => {
    const key = randomBytes(32).toString('base64');
    const good = keys({ current: { command: [process.execPath, '-e', `process.stdout.write(${JSON.stringify(key + '\n')})`], id: 'kms-2026' } });
    const a = admin(good);
    expect(a.keyStatus()).toMatchObject({ current: 'kms-2026', problems: [] });
    await enrolled(a, TemplateCipher.open(dataDir, good), 1);
    expect(keyIds()).toEqual(['kms-2026']);

    const bad = keys({ current: { command: [process.execPath, '-e', 'process.stderr.write("vault is sealed\\n"); process.exit(3)'] } });
    const b = admin(bad);
    expect(b.keyStatus().current).toBeNull();
    expect(b.keyStatus().problems.join()).toMatch(/the command failed \(exit 3\): vault is sealed/);
    const p = await b.create('admin', { name: 'New', dorms: ['d1'] });
    await expect(b.enrol('admin', p.id, [Buffer.from('not used')], { givenBy: 'self', scope: 'dorm' })).rejects.toMatchObject({ code: 'face_key_unavailable', status: 503 });
    expect(logs.some((l) => l.includes('face key not available') && l.includes('vault is sealed'))).toBe(true);
    expect(logs.some((l) => l.includes(key))).toBe(false);
  });

  it('rotation: `warden face rotate-key` re-seals every template under the new key, audited; then the old key is not needed', async () => {
    const keyA = path.join(root, 'keys', 'a.key');
    const a = admin(keys({ current: { file: keyA } }));
    expect(existsSync(keyA)).toBe(true); // generated: no stored template needed another key
    const idA = a.keyStatus().current!;
    const cipherA = TemplateCipher.open(dataDir, keys({ current: { file: keyA } }));
    const ids = [await enrolled(a, cipherA, 2), await enrolled(a, cipherA, 1)];
    const before = ids.map((id) => a.sync.entry(a.repo.person(id)!).templates);

    // The operator makes a new key, makes it current and lists the old one as previous, then rotates.
    const keyB = path.join(root, 'keys', 'b.key');
    const cfgFile = path.join(root, 'hub.yaml');
    writeFileSync(cfgFile, `dataDir: hub\nfaces:\n  keys:\n    current: { file: keys/b.key }\n    previous: [ { file: keys/a.key } ]\n`);
    await runFaceKeyGen({ out: keyB, config: cfgFile });
    expect(readFileSync(keyB, 'utf8').trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    await runFaceKeyGen({ out: path.join(dataDir, 'x.key'), config: cfgFile }); // refused: inside the data dir
    expect(process.exitCode).toBe(1);
    expect(existsSync(path.join(dataDir, 'x.key'))).toBe(false);
    process.exitCode = 0;

    const cli = spawnSync(process.execPath, [WARDEN, 'face', 'rotate-key', '--config', cfgFile], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    const idB = keyIdOf(Buffer.from(readFileSync(keyB, 'utf8').trim(), 'base64'));
    expect(cli.stdout).toContain(`re-sealed under key id ${idB}: 3 (3 from ${idA})`);
    expect(keyIds()).toEqual([idB, idB, idB]);
    const audit = db.prepare<[], { actor: string; target: string; detail: string }>("SELECT actor, target, detail FROM audit WHERE action = 'face.key_rotate'").all();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'cli', target: idB });
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ templates: 3, from: { [idA]: 3 } });

    // Only the new key now: every template reads the same as before.
    const onlyB = admin(keys({ current: { file: keyB } }));
    expect(ids.map((id) => onlyB.sync.entry(onlyB.repo.person(id)!).templates)).toEqual(before);
    // Run again: nothing left to do. Without the old key listed, a template under it is named, nothing changes.
    expect(rotateFaceKey(cfgFile, {}).resealed).toBe(0);
    await enrolled(a, cipherA, 1);
    writeFileSync(cfgFile, `dataDir: hub\nfaces:\n  keys:\n    current: { file: keys/b.key }\n`);
    expect(() => rotateFaceKey(cfgFile, {})).toThrow(`templates unreadable, nothing re-sealed: 1 under key id ${idA} (missing)`);
    expect(keyIds()).toEqual([idB, idB, idB, idA]);
  }, 60_000);

  it('legacy <dataDir>/faces.key (before issue 9): its templates are re-sealed under the configured key at start, audited, the file removed', async () => {
    const legacy = randomBytes(32);
    writeFileSync(path.join(dataDir, 'faces.key'), legacy.toString('hex') + '\n', { mode: 0o600 });
    const old = new TemplateCipher({ current: { id: 'old', key: legacy, from: 'legacy' }, keys: new Map(), problems: [], currentFrom: 'legacy' });
    const seeder = admin(keys({ current: { env: 'NONE_SET' } }));
    const p = await seeder.create('admin', { name: 'Old', dorms: ['d1'] });
    seeder.repo.addConsent({ person: p.id, givenBy: 'self', givenAt: 1, scope: 'dorm', recordedBy: 'admin' });
    seeder.repo.addTemplate(p.id, 'faceapi-recognition', { ...old.seal(p.id, template(7)), keyId: null }, 1);
    expect(existsSync(path.join(dataDir, 'faces.key'))).toBe(true); // no current key: nothing migrated, nothing lost
    expect(keyIds()).toEqual([null]);

    const key = randomBytes(32);
    const a = admin(keys({ current: { env: 'K' } }), { K: key.toString('hex') });
    expect(keyIds()).toEqual([keyIdOf(key)]);
    expect(existsSync(path.join(dataDir, 'faces.key'))).toBe(false);
    expect(a.sync.entry(a.repo.person(p.id)!).templates).toEqual([encodeTemplate(template(7))]);
    const rows = db.prepare<[], { target: string; detail: string }>("SELECT target, detail FROM audit WHERE action = 'face.key_migrate'").all();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.target).toBe(keyIdOf(key));
  });
});

describe('a restored backup without the face key', () => {
  it('reads no template, names the missing key id, generates no new key, never crashes; with the key back the gallery flows', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'warden-face-restore-'));
    const dir = path.join(root, 'hub');
    const copy = path.join(root, 'restored');
    try {
      // The original hub: a person with a sealed template and a gateway whose gallery holds the person's dorm.
      let t = await testHub({}, dir);
      let tok = await login(t.hub);
      const pw = 'restore-gateway-password';
      await t.hub.provisionGateway('gw-f', 'Faces', pw);
      expect((await api(t.hub, tok, '/api/faces/gateways/gw-f', { method: 'PUT', body: { dorms: ['d1'], buildings: [], watchlist: false } })).status).toBe(204);
      const person = (await api<{ id: string }>(t.hub, tok, '/api/faces/persons', { method: 'POST', body: { name: 'Resident', dorms: ['d1'] } })).body.id;
      await t.close();
      const keyId = (() => {
        const db = openStateDb(path.join(dir, 'state.db'));
        try {
          const cipher = TemplateCipher.open(dir);
          const a = new AuditLog(db);
          db.prepare('INSERT INTO face_consents (person, given_by, given_at, scope, recorded_by) VALUES (?, ?, ?, ?, ?)').run(person, 'self', 1, 'dorm', 'admin');
          const s = cipher.seal(person, template(3));
          db.prepare('INSERT INTO face_templates (person, model, iv, tag, data, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(person, 'faceapi-recognition', s.iv, s.tag, s.data, s.keyId, 1);
          a.record('test', 'seed', person);
          return s.keyId!;
        } finally {
          db.close();
        }
      })();

      // The backup: a copy of the data dir, started elsewhere without the key file beside it.
      cpSync(dir, copy, { recursive: true });
      t = await testHub({}, copy);
      try {
        expect(existsSync(defaultKeyFile(copy))).toBe(false); // no new key generated over the restored templates
        tok = await login(t.hub);
        const seen = await api<{ templates: number }>(t.hub, tok, `/api/faces/persons/${person}`);
        expect(seen.status).toBe(200);
        expect(seen.body.templates).toBe(1);
        const enrol = await api<{ error: { code: string; message: string } }>(t.hub, tok, `/api/faces/persons/${person}/enrol`, { method: 'POST', body: { photos: [Buffer.from('not a photo, not decoded').toString('base64')] } });
        expect(enrol.status).toBe(503);
        expect(enrol.body.error.message).toContain(`sealed under key id(s) ${keyId}`);
        // A gateway asking for its gallery gets nothing (not an empty face list), and the hub stays up.
        const gw = await connectGateway(t.hub.mqttUrl, 'gw-f', pw);
        const got: string[] = [];
        gw.on('message', (topic, payload) => void (topic === gatewayTopic('gw-f', 'gallery') && got.push(payload.toString())));
        await gw.subscribeAsync(gatewayTopic('gw-f', 'gallery'), { qos: 1 });
        await gw.publishAsync(gatewayTopic('gw-f', 'status'), status('gw-f', 'online', { gallery: { version: 0, model: 'faceapi-recognition' } }), { qos: 1, retain: true });
        await new Promise((r) => setTimeout(r, 1000));
        expect(got).toEqual([]);
        expect((await api(t.hub, tok, '/api/health')).status).toBe(200);
        gw.end(true);
      } finally {
        await t.close();
      }

      // The key restored beside the copy: the same data reads again and the gallery reaches the gateway.
      cpSync(defaultKeyFile(dir), defaultKeyFile(copy));
      t = await testHub({}, copy);
      try {
        const gw = await connectGateway(t.hub.mqttUrl, 'gw-f', pw);
        const got: Array<{ upsert: Array<{ id: string; templates: string[] }> }> = [];
        gw.on('message', (topic, payload) => void (topic === gatewayTopic('gw-f', 'gallery') && got.push(JSON.parse(payload.toString()))));
        await gw.subscribeAsync(gatewayTopic('gw-f', 'gallery'), { qos: 1 });
        await gw.publishAsync(gatewayTopic('gw-f', 'status'), status('gw-f', 'online', { gallery: { version: 0, model: 'faceapi-recognition' } }), { qos: 1, retain: true });
        const deadline = Date.now() + 10_000;
        while (!got.some((d) => d.upsert.some((p) => p.id === person && p.templates.length === 1)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(got.some((d) => d.upsert.some((p) => p.id === person && p.templates.length === 1))).toBe(true);
        gw.end(true);
      } finally {
        await t.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 90_000);
});
