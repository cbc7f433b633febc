import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/alarms/rules/index.ts';
import { ALARM_TYPE_NAMES, type AlarmRule } from '../../src/alarms/types.ts';

const dir = fileURLToPath(new URL('../../src/alarms/rules/', import.meta.url));

describe('rule registry', () => {
  it('registers the rule of every file in rules/, each with its own test', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    const tests = new Set(readdirSync(fileURLToPath(new URL('.', import.meta.url))));
    for (const f of files) {
      const mod = (await import(`${dir}${f}`)) as Record<string, AlarmRule>;
      const rules = Object.values(mod).filter((v) => v && typeof v === 'object' && 'create' in v);
      expect(rules, f).toHaveLength(1);
      expect(RULES, f).toContain(rules[0]);
      expect(rules[0]!.id, f).toBe(f.replace(/\.ts$/, ''));
      expect(tests.has(f.replace(/\.ts$/, '.test.ts')), `test for ${f}`).toBe(true);
    }
    expect(RULES).toHaveLength(files.length);
  });

  it('every alarm type is raised by exactly one rule', () => {
    const raised = RULES.flatMap((r) => r.types);
    expect([...raised].sort()).toEqual([...ALARM_TYPE_NAMES].sort());
  });
});
