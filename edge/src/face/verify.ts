/** One labelled pair and what the recogniser made of it. */
export interface PairResult {
  fileX: string;
  fileY: string;
  expected: boolean;
  similarity: number;
  same: boolean;
}

export interface TarAtFar {
  /** True accept rate at the strictest threshold whose false accept rate is at most `far`. */
  tar: number;
  /** Accept when similarity > threshold. */
  threshold: number;
  /** False accepts allowed by far x negatives (0 when there are fewer than 1/far negatives: the FAR is then only bounded by 1/negatives). */
  falseAccepts: number;
}

export interface VerifySummary {
  pairs: number;
  positives: number;
  negatives: number;
  accuracy: number;
  threshold: number;
  tarAtFar: Record<'1e-2' | '1e-3', TarAtFar | null>;
}

/** `file_x,file_y,Decision` (Yes/No) with a header row; quoted fields allowed. Errors name the line. */
export function parsePairsCsv(text: string): { fileX: string; fileY: string; expected: boolean }[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error('pairs CSV is empty');
  const split = (line: string): string[] => {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!;
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
        else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') out.push(cur), (cur = '');
      else cur += ch;
    }
    out.push(cur);
    return out.map((s) => s.trim());
  };
  const header = split(lines[0]!).map((h) => h.toLowerCase());
  const ix = header.indexOf('file_x');
  const iy = header.indexOf('file_y');
  const id = header.indexOf('decision');
  if (ix < 0 || iy < 0 || id < 0) throw new Error(`pairs CSV header must have file_x, file_y and Decision columns (got: ${lines[0]})`);
  return lines.slice(1).map((line, n) => {
    const f = split(line);
    const decision = (f[id] ?? '').toLowerCase();
    if (!f[ix] || !f[iy]) throw new Error(`pairs CSV line ${n + 2}: file_x and file_y are required`);
    if (decision !== 'yes' && decision !== 'no') throw new Error(`pairs CSV line ${n + 2}: Decision must be Yes or No (got ${JSON.stringify(f[id] ?? '')})`);
    return { fileX: f[ix]!, fileY: f[iy]!, expected: decision === 'yes' };
  });
}

function tarAt(far: number, pos: number[], neg: number[]): TarAtFar | null {
  if (pos.length === 0 || neg.length === 0) return null;
  const sorted = [...neg].sort((a, b) => b - a);
  const falseAccepts = Math.floor(far * neg.length);
  // Strictly above the (falseAccepts+1)-th highest impostor score: at most falseAccepts impostors pass.
  const threshold = sorted[falseAccepts]!;
  return { tar: pos.filter((s) => s > threshold).length / pos.length, threshold, falseAccepts };
}

/** Accuracy at `threshold` (same person when similarity >= threshold) and TAR at FAR 1e-2 and 1e-3. */
export function summarise(results: readonly PairResult[], threshold: number): VerifySummary {
  const pos = results.filter((r) => r.expected).map((r) => r.similarity);
  const neg = results.filter((r) => !r.expected).map((r) => r.similarity);
  return {
    pairs: results.length,
    positives: pos.length,
    negatives: neg.length,
    accuracy: results.length ? results.filter((r) => r.same === r.expected).length / results.length : 0,
    threshold,
    tarAtFar: { '1e-2': tarAt(1e-2, pos, neg), '1e-3': tarAt(1e-3, pos, neg) },
  };
}
