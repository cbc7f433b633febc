import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The models workspace folder (models/). */
export const MODELS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where built .onnx files go unless WARDEN_MODELS_DIR says otherwise. */
export function defaultBuildDir(): string {
  return process.env.WARDEN_MODELS_DIR ? path.resolve(process.env.WARDEN_MODELS_DIR) : path.join(MODELS_ROOT, 'build');
}

/**
 * The installed folder of an npm package, found the way Node looks up node_modules. Resolving
 * `<pkg>/package.json` does not work here: @vladmandic/human's "exports" does not list it.
 */
export function packageDir(pkg: string, from = MODELS_ROOT): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', ...pkg.split('/'));
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`npm package ${pkg} is not installed (looked upwards from ${from}); run npm install`);
  }
}
