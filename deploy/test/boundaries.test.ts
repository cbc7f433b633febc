import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package arrows (.dependency-cruiser.cjs, `npm run check:boundaries` in `npm test`):
 * the real tree passes, and a miniature copy of the monorepo (the same config, the real package.json files,
 * one small module per workspace) with one forbidden import of each kind is refused, naming each.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const WORKSPACES = ['contract', 'edge', 'hub', 'dashboard', 'simulators', 'models', 'deploy'];

/** Runs dependency-cruiser as `npm run check:boundaries` does (text report); each line `error <rule>: <from> → <to>`. */
function cruise(cwd: string, paths: string[]): Promise<{ code: number; violations: string[]; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [DEPCRUISE, '--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...paths],
      { cwd, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        const violations = stdout
          .split('\n')
          .map((l) => /^\s*error (.+)$/.exec(l)?.[1])
          .filter((l): l is string => l !== undefined)
          // A package outside the miniature tree is reported by its real path: keep from node_modules/ on.
          .map((l) => l.replace(/→ \S*?node_modules\//, '→ node_modules/'))
          .sort();
        resolve({ code, violations, output: stdout + stderr });
      },
    );
  });
}

describe('package boundaries', () => {
  it('the real tree has no forbidden import', async () => {
    const r = await cruise(ROOT, [...WORKSPACES, 'bin']);
    expect(r.violations).toEqual([]);
    expect(r.output).toMatch(/no dependency violations found/);
    expect(r.code).toBe(0);
  });

  describe('a tree with forbidden imports', () => {
    let dir: string;

    /** Source files of the miniature monorepo, path → text. The first group is allowed, the rest not. */
    const files: Record<string, string> = {
      // Allowed arrows.
      'contract/src/index.ts': `export type Wire = { id: string };\nexport const KINDS = ['door'] as const;\n`,
      'models/src/index.ts': `export const MODEL = 'm';\n`,
      'edge/src/index.ts': `import { KINDS } from '@warden/contract';\nimport { MODEL } from '@warden/models';\nexport const EDGE = [KINDS, MODEL];\n`,
      'hub/src/index.ts': `import { KINDS } from '@warden/contract';\nexport const HUB = KINDS;\n`,
      'simulators/src/index.ts': `import { KINDS } from '@warden/contract';\nexport const SIM = KINDS;\n`,
      'dashboard/src/ok.ts': `import type { Wire } from '@warden/contract';\nexport type { Wire as W } from '@warden/contract';\nexport const w: Wire = { id: 'x' };\n`,
      'dashboard/test/catalogue.test.ts': `import { KINDS } from '@warden/contract';\nexport const k = KINDS;\n`,
      'deploy/src/index.ts': `import { EDGE } from '@warden/edge';\nimport { HUB } from '@warden/hub';\nimport { SIM } from '@warden/simulators';\nexport const ALL = [EDGE, HUB, SIM];\n`,
      'deploy/test/together.test.ts': `import { EDGE } from '@warden/edge';\nimport { HUB } from '../../hub/src/index.ts';\nexport const T = [EDGE, HUB];\n`,
      // Forbidden.
      'edge/src/uses-hub.ts': `import { HUB } from '@warden/hub';\nexport const x = HUB;\n`,
      'hub/src/uses-edge.ts': `import { EDGE } from '../../edge/src/index.ts';\nexport const x = EDGE;\n`,
      'hub/test/with-edge.test.ts': `import { EDGE } from '@warden/edge/index.ts';\nexport const x = EDGE;\n`,
      'simulators/src/uses-edge.ts': `import { EDGE } from '@warden/edge';\nexport const x = EDGE;\n`,
      'models/src/uses-hub.ts': `import { HUB } from '../../hub/src/index.ts';\nexport const x = HUB;\n`,
      'contract/src/uses-models.ts': `import { MODEL } from '@warden/models';\nexport const x = MODEL;\n`,
      'dashboard/src/contract-value.ts': `import { KINDS } from '@warden/contract';\nexport const x = KINDS;\n`,
      'dashboard/src/uses-hub.ts': `import type { HUB } from '@warden/hub';\nexport type X = typeof HUB;\n`,
      'dashboard/src/undeclared-npm.ts': `import Fastify from 'fastify';\nexport const x = Fastify;\n`,
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'warden-boundaries-'));
      await copyFile(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
      await copyFile(join(ROOT, 'package.json'), join(dir, 'package.json'));
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true, strict: true }, include: WORKSPACES }),
      );
      for (const ws of WORKSPACES) {
        await mkdir(join(dir, ws, 'src'), { recursive: true });
        await copyFile(join(ROOT, ws, 'package.json'), join(dir, ws, 'package.json'));
      }
      for (const [file, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, file)), { recursive: true });
        await writeFile(join(dir, file), text);
      }
      // node_modules: the real third-party packages, and @warden/* linked to the miniature workspaces as npm does.
      await mkdir(join(dir, 'node_modules', '@warden'), { recursive: true });
      for (const entry of await readdir(join(ROOT, 'node_modules'))) {
        if (entry === '@warden' || entry === '.bin' || entry.startsWith('.')) continue;
        await symlink(join(ROOT, 'node_modules', entry), join(dir, 'node_modules', entry));
      }
      for (const ws of WORKSPACES) await symlink(join(dir, ws), join(dir, 'node_modules', '@warden', ws), 'dir');
    });

    afterAll(async () => {
      if (dir && !process.env.KEEP) await rm(dir, { recursive: true, force: true });
    });

    it('fails and names every forbidden import, and only those', async () => {
      const r = await cruise(dir, [...WORKSPACES]);
      expect(r.code).not.toBe(0);
      expect(r.violations).toEqual(
        [
          'edge-not-hub: edge/src/uses-hub.ts → hub/src/index.ts',
          'edge-imports-only-declared-workspaces: edge/src/uses-hub.ts → hub/src/index.ts',
          'hub-not-edge: hub/src/uses-edge.ts → edge/src/index.ts',
          'hub-imports-only-declared-workspaces: hub/src/uses-edge.ts → edge/src/index.ts',
          'hub-not-edge: hub/test/with-edge.test.ts → edge/src/index.ts',
          'hub-imports-only-declared-workspaces: hub/test/with-edge.test.ts → edge/src/index.ts',
          'simulators-only-contract: simulators/src/uses-edge.ts → edge/src/index.ts',
          'simulators-imports-only-declared-workspaces: simulators/src/uses-edge.ts → edge/src/index.ts',
          'models-not-edge-or-hub: models/src/uses-hub.ts → hub/src/index.ts',
          'models-imports-only-declared-workspaces: models/src/uses-hub.ts → hub/src/index.ts',
          'contract-imports-no-workspace: contract/src/uses-models.ts → models/src/index.ts',
          'contract-imports-only-declared-workspaces: contract/src/uses-models.ts → models/src/index.ts',
          'dashboard-src-only-contract-types: dashboard/src/contract-value.ts → contract/src/index.ts',
          'dashboard-only-contract: dashboard/src/uses-hub.ts → hub/src/index.ts',
          'dashboard-imports-only-declared-workspaces: dashboard/src/uses-hub.ts → hub/src/index.ts',
          'npm-package-declared: dashboard/src/undeclared-npm.ts → node_modules/fastify/fastify.js',
        ].sort(),
      );
    });
  });
});
