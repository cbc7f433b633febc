import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The console has no wire type of its own: every REST answer, request and live message is typed from the
 * contract (contract/src/api/). Proof: copy the contract with fields renamed, type-check the real console
 * sources against the copy (a `paths` mapping of @warden/contract), and expect tsc to fail naming each field.
 * The copy lives under node_modules/.cache (excluded from the repo's own type check; typebox, react and
 * @types resolve from the repo's node_modules).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const WORK = join(ROOT, 'node_modules', '.cache', `warden-contract-rename-${process.pid}`);

/** file in contract/src -> [exact text, replacement]: one REST answer field, one live message field, one energy field. */
const RENAMES: Array<{ file: string; from: string; to: string; field: string }> = [
  { file: 'api/alarms.ts', from: '  acknowledgedBy: Nullable(Type.String()),', to: '  acknowledgedByUser: Nullable(Type.String()),', field: 'acknowledgedBy' },
  { file: 'api/live.ts', from: '  alarmId: Type.String(),', to: '  alarm: Type.String(),', field: 'alarmId' },
  { file: 'api/energy.ts', from: '  step: literalUnion(ENERGY_STEPS),\n  total: Type.Number(),', to: '  step: literalUnion(ENERGY_STEPS),\n  sum: Type.Number(),', field: 'total' },
];

afterAll(() => rmSync(WORK, { recursive: true, force: true }));

describe('the console is typed from the contract', () => {
  it('fails its type check, naming the field, when a contract field is renamed', async () => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    cpSync(join(ROOT, 'contract', 'src'), join(WORK, 'contract', 'src'), { recursive: true });
    for (const r of RENAMES) {
      const file = join(WORK, 'contract', 'src', r.file);
      const text = readFileSync(file, 'utf8');
      expect(text.split(r.from).length - 1, `${r.file} holds ${JSON.stringify(r.from)} once`).toBe(1);
      writeFileSync(file, text.replace(r.from, r.to));
    }
    const rel = (p: string) => relative(WORK, p).split('\\').join('/');
    writeFileSync(
      join(WORK, 'tsconfig.json'),
      JSON.stringify({
        extends: rel(join(ROOT, 'tsconfig.base.json')),
        compilerOptions: {
          jsx: 'react-jsx',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          typeRoots: [rel(join(ROOT, 'node_modules', '@types'))],
          paths: { '@warden/contract': ['./contract/src/index.ts'] },
        },
        include: [rel(join(ROOT, 'dashboard', 'src'))],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = await promisify(execFile)(process.execPath, [tsc, '-p', join(WORK, 'tsconfig.json'), '--noEmit', '--pretty', 'false'], { maxBuffer: 16 << 20 }).then(
      (r) => ({ code: 0, text: r.stdout + r.stderr }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, text: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
    );
    const errors = out.text.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(out.code, out.text).not.toBe(0);
    for (const r of RENAMES) {
      expect(
        errors.some((l) => l.includes(`'${r.field}'`)),
        `an error naming '${r.field}' in:\n${errors.join('\n')}`,
      ).toBe(true);
    }
    // Only the renames break it: every error is about one of the renamed fields (the console is clean otherwise).
    const unrelated = errors.filter((l) => !RENAMES.some((r) => l.includes(r.field) || l.includes(r.to.trim().split(':')[0]!)));
    expect(unrelated, unrelated.join('\n')).toEqual([]);
  }, 240_000);
});
