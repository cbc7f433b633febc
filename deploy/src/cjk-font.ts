import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Makes the console's self-hosted Chinese font, dashboard/public/fonts/warden-sc.woff2: Noto Sans CJK SC
 * (SIL Open Font License; Debian's fonts-noto-cjk) cut down to the 3,755 most common characters (GB 2312
 * level 1) plus every CJK character in the console, the campus plan and the demo data. The console's font
 * stack puts it before the system fonts, so Chinese renders on a machine without any CJK font; a rarer
 * character falls through to the system's fonts.
 *
 * Run after adding Chinese text outside those characters (needs Debian's fonts-noto-cjk and python3-fonttools):
 *   node --import tsx deploy/src/cjk-font.ts
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
/** Face 2 of the collection is Simplified Chinese. */
const SC_FACE = 2;
export const CJK_FONT = join(ROOT, 'dashboard/public/fonts/warden-sc.woff2');

function gb2312Level1(): string {
  const dec = new TextDecoder('gb18030');
  let out = '';
  for (let hi = 0xb0; hi <= 0xd7; hi++) for (let lo = 0xa1; lo <= 0xfe; lo++) if (!(hi === 0xd7 && lo > 0xf9)) out += dec.decode(Uint8Array.of(hi, lo));
  return out;
}

function sourceText(path: string): string {
  const st = statSync(path);
  if (st.isDirectory()) return readdirSync(path).map((f) => sourceText(join(path, f))).join('');
  return /\.(tsx?|html|css)$/.test(path) ? readFileSync(path, 'utf8') : '';
}

export function cjkCharacters(): string {
  const text = gb2312Level1() + ['dashboard/src', 'dashboard/index.html', 'simulators/src/campus.ts', 'deploy/src'].map((p) => sourceText(join(ROOT, p))).join('');
  const chars = new Set<string>();
  for (const ch of text) if (/[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2e80-\u2fdf]/u.test(ch)) chars.add(ch);
  return [...chars].sort().join('');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-font-'));
  try {
    const chars = cjkCharacters();
    writeFileSync(join(dir, 'chars.txt'), chars);
    execFileSync('/usr/bin/python3', ['-m', 'fontTools.subset', SOURCE, `--font-number=${SC_FACE}`, `--text-file=${join(dir, 'chars.txt')}`, '--flavor=woff2', `--output-file=${CJK_FONT}`, '--no-hinting', '--desubroutinize'], { stdio: 'inherit' });
    console.log(`${CJK_FONT}: ${chars.length} characters, ${Math.round(statSync(CJK_FONT).size / 1024)} KiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
