import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Gallery } from '../../src/face/gallery.ts';
import { syntheticTemplates } from '../../src/face/synthetic.ts';
import { createDotKernel } from '../../src/face/dot-kernel.ts';
import { GalleryIntegrityError, GalleryKeyError, loadGallery, loadGalleryKey, parseGalleryKey, saveGallery } from '../../src/face/store.ts';

function naiveBest(rows: Float32Array, owners: string[], d: number, probe: Float32Array): { person: string; score: number } {
  let best = { person: '', score: -Infinity };
  owners.forEach((person, r) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += rows[r * d + j]! * probe[j]!;
    if (s > best.score) best = { person, score: s };
  });
  return best;
}

const KEY = 'a'.repeat(64);

describe('search kernel', () => {
  it.each([128, 1024, 12])('WebAssembly SIMD scores equal the JS loop for %i-D rows (12: JS fallback)', (d) => {
    const n = 257;
    const t = syntheticTemplates(n, d, 5);
    const probe = syntheticTemplates(1, d, 6);
    const fast = createDotKernel(d, 4);
    const ref = createDotKernel(d, 4, true);
    expect(fast.simd).toBe(d % 8 === 0);
    for (const k of [fast, ref]) {
      k.ensureRows(n); // grows from 4 rows: views move, contents written after
      k.matrix.set(t);
      k.probe.set(probe);
      k.run(n);
    }
    for (let r = 0; r < n; r++) expect(fast.scores[r]).toBeCloseTo(ref.scores[r]!, 5);
  });
});

describe('gallery', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('search finds the same best person as a naive scan over 3,000 persons with 2 templates each', () => {
    const d = 128;
    const t = syntheticTemplates(6000, d, 7);
    const g = new Gallery(d, 16); // small start: exercises growth
    const owners: string[] = [];
    for (let r = 0; r < 6000; r++) {
      owners.push(`p${r >> 1}`);
      g.addTemplate(`p${r >> 1}`, t.subarray(r * d, (r + 1) * d));
    }
    expect(g.personCount).toBe(3000);
    const probes = syntheticTemplates(20, d, 99);
    for (let i = 0; i < 20; i++) {
      const p = probes.subarray(i * d, (i + 1) * d);
      const [top] = g.search(p, 3);
      const naive = naiveBest(t, owners, d, p);
      expect(top!.person).toBe(naive.person);
      expect(top!.score).toBeCloseTo(naive.score, 5);
    }
    // An enrolled template finds its owner with similarity 1; top-k lists distinct persons in order.
    const hits = g.search(t.subarray(10 * d, 11 * d), 5);
    expect(hits[0]).toMatchObject({ person: 'p5' });
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    expect(new Set(hits.map((h) => h.person)).size).toBe(5);
    for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
  });

  it('remove, revoke and credentials are incremental; a revoked person cannot be re-enrolled until restored', () => {
    const d = 4;
    const g = new Gallery(d);
    g.upsertPerson('alice', { credentials: ['card-1'] });
    g.addTemplate('alice', [1, 0, 0, 0]);
    g.addTemplate('bob', [0, 1, 0, 0]);
    g.addTemplate('carol', [0, 0, 1, 0]);
    g.upsertPerson('mallory', { watchlist: true });
    g.addTemplate('mallory', [0, 0, 0, 1]);
    expect(g.credentialOwner('card-1')?.id).toBe('alice');
    expect(g.search(Float32Array.of(0, 0, 0, 1))[0]).toEqual({ person: 'mallory', score: 1, watchlist: true });
    expect(g.remove('alice')).toBe(1);
    expect(g.credentialOwner('card-1')).toBeUndefined();
    expect(g.search(Float32Array.of(1, 0, 0, 0))[0]!.person).not.toBe('alice');
    expect(g.search(Float32Array.of(0, 0, 1, 0))[0]!.person).toBe('carol'); // the row moved into alice's slot still answers
    expect(g.revoke('bob')).toBe(1);
    expect(() => g.addTemplate('bob', [0, 1, 0, 0])).toThrow(/revoked/);
    g.restore('bob');
    g.addTemplate('bob', [0, 1, 0, 0]);
    expect(g.search(Float32Array.of(0, 1, 0, 0))[0]!.person).toBe('bob');
    expect(() => g.addTemplate('x', [1, 2])).toThrow(/4/);
    expect(() => g.addTemplate('x', [0, 0, 0, 0])).toThrow(/zeros/);
  });

  it('round-trips through an AES-256-GCM file and detects tampering and a wrong key', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-gallery-'));
    dirs.push(dir);
    const file = path.join(dir, 'gallery.bin');
    const d = 128;
    const t = syntheticTemplates(50, d, 3);
    const g = new Gallery(d);
    g.upsertPerson('p0', { credentials: ['qr-77'], watchlist: true });
    for (let r = 0; r < 50; r++) g.addTemplate(`p${r % 10}`, t.subarray(r * d, (r + 1) * d));
    g.revoke('p9');
    const key = parseGalleryKey(KEY);
    await saveGallery(file, g, key);

    const bytes = await readFile(file);
    // Templates are not readable in the file: no 16-byte run of the first template appears in it.
    expect(bytes.includes(Buffer.from(t.buffer, 0, 16))).toBe(false);
    expect(bytes.includes(Buffer.from('qr-77'))).toBe(false);

    const back = await loadGallery(file, key);
    expect(back.personCount).toBe(9);
    expect(back.templateCount).toBe(45);
    expect(back.isRevoked('p9')).toBe(true);
    expect(back.credentialOwner('qr-77')?.watchlist).toBe(true);
    const probe = t.subarray(3 * d, 4 * d);
    expect(back.search(probe, 2)).toEqual(g.search(probe, 2));

    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 5]! ^= 0x01;
    await writeFile(file, tampered);
    await expect(loadGallery(file, key)).rejects.toBeInstanceOf(GalleryIntegrityError);
    await writeFile(file, bytes);
    await expect(loadGallery(file, parseGalleryKey('b'.repeat(64)))).rejects.toThrow(/wrong key, or the file was altered/);
    await writeFile(file, Buffer.from('hello'));
    await expect(loadGallery(file, key)).rejects.toThrow(/not a Warden gallery/);
  });

  it('reads the key from config or a key file and never echoes it in an error', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-gallery-key-'));
    dirs.push(dir);
    const keyFile = path.join(dir, 'key');
    await writeFile(keyFile, `${Buffer.alloc(32, 7).toString('base64')}\n`);
    expect(loadGalleryKey({ keyFile })).toEqual(Buffer.alloc(32, 7));
    expect(loadGalleryKey({ key: KEY })).toEqual(Buffer.from(KEY, 'hex'));
    const secret = 'deadbeef-secret-short';
    try {
      parseGalleryKey(secret);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GalleryKeyError);
      expect((err as Error).message).not.toContain(secret);
    }
    expect(() => loadGalleryKey({})).toThrow(/no gallery key/);
  });
});
