import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateRecord } from '@warden/contract';
import { Outbox, type NewRecord } from '../src/outbox.ts';
import { NOW, tempDir } from './helpers.ts';

const rec = (i: number): NewRecord => ({ device: `dev-${i % 3}`, ts: NOW + i, kind: 'event', type: 'door.opened', data: { door: 1 + (i % 2) } });

describe('outbox', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.remove());

  it('assigns ids and increasing seqs, peeks in order, acks cumulatively', () => {
    const ob = Outbox.open(join(tmp.dir, 'nested', 'ob.db'));
    try {
      const out = ob.append([rec(1), rec(2), rec(3)]);
      expect(out.map((r) => r.seq)).toEqual([1, 2, 3]);
      expect(new Set(out.map((r) => r.id)).size).toBe(3);
      for (const r of out) expect(validateRecord(r).ok).toBe(true);
      ob.append([rec(4), rec(5)]);
      expect(ob.backlog()).toBe(5);
      expect(ob.peek(0, 2)).toEqual(out.slice(0, 2));
      expect(ob.peek(3, 10).map((r) => r.seq)).toEqual([4, 5]);
      expect(ob.ackUpTo(3)).toBe(3);
      expect(ob.backlog()).toBe(2);
      expect(ob.peek(0, 10).map((r) => r.seq)).toEqual([4, 5]);
      expect(ob.ackUpTo(3)).toBe(0); // repeated ack is harmless
      expect(ob.append([])).toEqual([]);
    } finally {
      ob.close();
    }
  });

  it('keeps records and the sequence across reopen, even when emptied', () => {
    const path = join(tmp.dir, 'ob.db');
    let ob = Outbox.open(path);
    ob.append([rec(1), rec(2), rec(3)]);
    ob.close();
    ob = Outbox.open(path);
    expect(ob.backlog()).toBe(3);
    expect(ob.peek(0, 10).map((r) => r.seq)).toEqual([1, 2, 3]);
    ob.ackUpTo(3);
    expect(ob.backlog()).toBe(0);
    ob.close();
    ob = Outbox.open(path, { synchronous: 'full' });
    expect(ob.lastSeq()).toBe(3);
    expect(ob.append([rec(4)])[0]!.seq).toBe(4); // never goes backwards, never reuses a seq
    ob.close();
  });

  it('loses nothing appended before a SIGKILL', async () => {
    const path = join(tmp.dir, 'killed.db');
    // A separate process appends one record per message and reports each seq after the commit returns;
    // we kill it mid-stream and check that every reported seq is in the file.
    const script = `
      import { Outbox } from ${JSON.stringify(new URL('../src/outbox.ts', import.meta.url).pathname)};
      const ob = Outbox.open(${JSON.stringify(path)});
      let i = 0;
      const tick = () => {
        const [r] = ob.append([{ device: 'd1', ts: ${NOW} + i, kind: 'telemetry', metrics: { n: i++ } }]);
        process.stdout.write(r.seq + '\\n');
        setImmediate(tick);
      };
      tick();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const reported: number[] = [];
    await new Promise<void>((resolve) => {
      let buf = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) reported.push(Number(l));
        if (reported.length >= 200 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    expect(child.signalCode).toBe('SIGKILL');
    const ob = Outbox.open(path);
    try {
      const stored = new Set(ob.peek(0, 1_000_000).map((r) => r.seq));
      for (const s of reported) expect(stored.has(s), `seq ${s}`).toBe(true);
      expect(ob.append([rec(0)])[0]!.seq).toBeGreaterThan(Math.max(...reported));
    } finally {
      ob.close();
    }
  });
});
