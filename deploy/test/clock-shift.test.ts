import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * `npm run test:shifted` runs the whole suite again with the clock a year ahead and a year back (libfaketime,
 * WARDEN_TEST_CLOCK_SHIFT_DAYS=±365). This proves the shift really reached the test processes and the processes
 * they start, rather than the run passing on the real clock. The real time comes from the kernel's boot time
 * and uptime in /proc, which libfaketime does not move.
 */

const SHIFT_DAYS = Number(process.env.WARDEN_TEST_CLOCK_SHIFT_DAYS ?? 0);
const DAY = 86_400_000;

function kernelNow(): number {
  const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return (btime + uptime) * 1000;
}

describe.skipIf(!process.env.WARDEN_TEST_CLOCK_SHIFT_DAYS)(`the clock shifted by ${SHIFT_DAYS} days`, () => {
  it('moves Date in the test process', () => {
    expect(Math.abs(Date.now() - kernelNow() - SHIFT_DAYS * DAY)).toBeLessThan(DAY);
  });

  it('moves the clock of child processes (node and the system date)', () => {
    const node = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(Date.now()))'], { encoding: 'utf8' }));
    expect(Math.abs(node - kernelNow() - SHIFT_DAYS * DAY)).toBeLessThan(DAY);
    const date = Number(execFileSync('date', ['+%s'], { encoding: 'utf8' }).trim()) * 1000;
    expect(Math.abs(date - kernelNow() - SHIFT_DAYS * DAY)).toBeLessThan(DAY);
  });
});
