import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const WARDEN_BIN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

export interface ProcessSpec {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs Warden components as child processes, as they would run on separate machines, prefixes their
 * output with the component name, and restarts a component that dies so the demo keeps going.
 */
export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(private readonly out: (line: string) => void = (l) => process.stdout.write(l + '\n')) {}

  /** Components waited for by startAndWait: the ready line may come from a restarted incarnation. */
  private readonly waiters = new Map<string, { ready: RegExp; done: () => void }>();

  /**
   * Starts a component and resolves once it prints a line matching `ready` (its "listening" line). A component
   * that dies first is restarted as always (a port briefly taken, a crash at start-up) and waited for again;
   * only the timeout rejects.
   */
  startAndWait(spec: ProcessSpec, ready: RegExp, timeoutMs = 60_000): Promise<ChildProcess> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(spec.name);
        reject(new Error(`${spec.name} did not become ready within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(spec.name, {
        ready,
        done: () => {
          clearTimeout(timer);
          this.waiters.delete(spec.name);
          resolve(this.children.get(spec.name)!);
        },
      });
      this.start(spec);
    });
  }

  start(spec: ProcessSpec, restartDelayMs = 2000): ChildProcess {
    // The IPC channel is the children's lifeline: bin/warden.js stops a component whose launcher is gone (killed by
    // SIGKILL, crashed), so no hub, edge agent or simulator is left orphaned holding its ports and files.
    const child = spawn(process.execPath, [WARDEN_BIN, ...spec.args], {
      env: { ...process.env, ...spec.env, WARDEN_EXIT_WITH_PARENT: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.channel?.unref();
    this.children.set(spec.name, child);
    const tag = spec.name.padEnd(14).slice(0, 14);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.out(`${tag}| ${compactLogLine(line)}`);
        const w = this.waiters.get(spec.name);
        if (w?.ready.test(line)) w.done();
      });
    }
    child.on('exit', (code, signal) => {
      if (this.children.get(spec.name) === child) this.children.delete(spec.name);
      if (this.stopping) return;
      this.out(`${tag}| exited (${signal ?? code}); restarting in ${restartDelayMs} ms`);
      setTimeout(() => !this.stopping && this.start(spec, restartDelayMs), restartDelayMs).unref();
    });
    return child;
  }

  /** Stops children in reverse start order: simulators first, the hub last, so nothing is left queued. */
  async stopAll(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const [name, child] of [...this.children].reverse()) {
      await stopChild(child, timeoutMs);
      this.children.delete(name);
    }
  }
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const NOISE = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/** pino JSON lines, as the components write them for log collectors, shown as one readable line. */
export function compactLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof o.msg !== 'string') return line;
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(o)
    .filter(([k]) => !NOISE.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${(LEVELS[o.level as number] ?? String(o.level)).padEnd(5)} ${o.msg}${fields ? `  ${fields}` : ''}`;
}

export function stopChild(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = new Error(`HTTP ${res.status}`);
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${(last as Error)?.message}`);
}
