import { existsSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { pino } from 'pino';
import { campusPlan, scenarioFromPlan } from './campus.ts';
import { DEVICE_TYPES } from './registry.ts';
import { runScenario, type RunningScenario } from './runner.ts';
import { COMMON_ACTIONS } from './device.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { loadScenario, type Scenario } from './scenario.ts';

export const SCENARIO_DIR = fileURLToPath(new URL('../scenarios/', import.meta.url));

export function shippedScenarios(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * `campus` / `campus-full`: the demo or full campus plan against gateways whose field brokers listen on
 * WARDEN_FIELD_HOST (default 127.0.0.1), port WARDEN_FIELD_PORT_BASE (default 1884) + gateway index,
 * the layout `warden start` uses.
 */
function campusScenario(scale: 'demo' | 'full', env: NodeJS.ProcessEnv): Scenario {
  const plan = campusPlan({ scale });
  const host = env.WARDEN_FIELD_HOST || '127.0.0.1';
  const base = Number(env.WARDEN_FIELD_PORT_BASE || 1884);
  if (!Number.isInteger(base) || base < 1 || base + plan.gateways.length > 65535) throw new Error(`WARDEN_FIELD_PORT_BASE=${env.WARDEN_FIELD_PORT_BASE} is not a usable port`);
  return scenarioFromPlan(plan, Object.fromEntries(plan.gateways.map((g, i) => [g.id, `mqtt://${host}:${base + i}`])));
}

export function resolveScenario(name: string, env: NodeJS.ProcessEnv = process.env): Scenario {
  if (name === 'campus' || name === 'campus-demo') return campusScenario('demo', env);
  if (name === 'campus-full') return campusScenario('full', env);
  if (existsSync(name)) return loadScenario(name, { env });
  const shipped = join(SCENARIO_DIR, `${name.replace(/\.yaml$/, '')}.yaml`);
  if (/^[a-z0-9-]+(\.yaml)?$/.test(name) && existsSync(shipped)) return loadScenario(shipped, { env });
  throw new Error(`no scenario ${JSON.stringify(name)}: not a file, and not one of: campus, campus-full, ${shippedScenarios().join(', ')}`);
}

/** `door-lib-1 holdOpen 45` -> arg 45; JSON when it parses ({"on":true}), else the text. */
function parseArg(text: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return t;
  }
}

const HELP = [
  'commands (one per line on stdin):',
  '  <device> <action> [arg]   run an action, e.g. "door-lib-1 force", "door-lib-1 holdOpen 45", "relay-lib-1 set {"on":true}"',
  '  state <device>            print a device state as JSON',
  '  list                      list devices and their actions',
  '  help                      this text',
].join('\n');

function describeActions(type: string): string {
  const def = DEVICE_TYPES.find((d) => d.type === type);
  return [...Object.keys(def?.actions ?? {}), ...Object.keys(COMMON_ACTIONS)].join(', ');
}

async function command(running: RunningScenario, line: string, out: (l: string) => void): Promise<void> {
  const m = /^(\S+)(?:\s+(\S+))?\s*(.*)$/.exec(line.trim());
  if (!m) return;
  const [, head = '', second = '', argText = ''] = m;
  if (head === 'help') return out(HELP);
  if (head === 'list') {
    for (const d of running.devices.values()) out(`${d.id.padEnd(28)} ${d.type.padEnd(16)} ${describeActions(d.type)}`);
    return;
  }
  if (head === 'state') {
    const d = running.devices.get(second);
    return out(d ? `${second} ${JSON.stringify(d.state())}` : `error: no device ${second}`);
  }
  const device = running.devices.get(head);
  if (!device) return out(`error: no device ${JSON.stringify(head)} (try "list")`);
  if (!second) return out(`error: which action? ${device.id} has: ${describeActions(device.type)}`);
  try {
    await device.act(second, parseArg(argText));
    out(`ok ${device.id} ${second}${argText ? ` ${argText}` : ''}`);
  } catch (err) {
    out(`error: ${(err as Error).message}`);
  }
}

/**
 * `warden sim <scenario>`: runs a shipped scenario (by name), a scenario file, or the campus plan
 * (`campus`, `campus-full`) until SIGINT/SIGTERM or the scenario's duration.
 * Options: `speed` multiplies the scenario's own speed; `act` is a comma-separated list of
 * `device:action[:arg]` run once everything is connected; `duration` overrides the scenario's.
 * Devices are also driven with `<device> <action> [arg]` lines on stdin.
 */
export async function runSim(scenario: string, opts: Record<string, string> = {}): Promise<void> {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const logger = pino({ name: 'warden-sim', level: process.env.WARDEN_LOG_LEVEL || process.env.LOG_LEVEL || 'info' });
  const abort = new AbortController();
  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  const onSignal = (sig: NodeJS.Signals): void => {
    out(`${sig}: stopping`);
    abort.abort();
    stopRequested?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cleanupSignals = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  let running: RunningScenario;
  let s: Scenario;
  try {
    s = resolveScenario(scenario);
    const mult = opts.speed === undefined ? 1 : Number(opts.speed);
    if (!(mult > 0) || !Number.isFinite(mult)) throw new Error(`--speed must be a positive number, got ${JSON.stringify(opts.speed)}`);
    const speed = (s.speed ?? 1) * mult;
    const count = s.gateways.reduce((n, g) => n + g.devices.length, 0);
    out(`scenario ${s.name ?? scenario}: ${count} devices on ${s.gateways.length} gateway(s), speed ${speed}; connecting...`);
    running = await runScenario(s, {
      speed,
      logger,
      signal: abort.signal,
      onAction: (e, err) => out(`${err ? 'error' : 'timeline'} +${formatDuration(parseDuration(e.at)!)} ${e.device} ${e.do}${e.arg !== undefined ? ` ${JSON.stringify(e.arg)}` : ''}${err ? `: ${err.message}` : ''}`),
    });
  } catch (err) {
    cleanupSignals();
    // Stopped by a signal before everything connected: that is a clean stop, not a failure.
    if (abort.signal.aborted) return void out('stopped');
    process.stderr.write(`warden sim: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }

  for (const g of s.gateways) {
    const types = new Map<string, number>();
    for (const d of g.devices) types.set(d.type, (types.get(d.type) ?? 0) + 1);
    out(`  ${g.id.padEnd(16)} ${g.url.padEnd(26)} ${[...types].map(([t, k]) => `${t}×${k}`).join(', ')}`);
  }
  const timeline = s.timeline?.length ?? 0;
  out(`started: ${running.devices.size} devices online; ${timeline ? `timeline of ${timeline} action(s)` : 'no timeline'}. Ctrl+C stops. Type "help" for commands.`);

  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => void command(running, line, out));
  // stdin may be closed from the start (supervised runs); the simulation keeps going without it.
  rl.on('error', () => undefined);

  for (const item of (opts.act ?? '').split(',').map((a) => a.trim()).filter(Boolean)) {
    const [device = '', action = '', ...arg] = item.split(':');
    await command(running, `${device} ${action} ${arg.join(':')}`, out);
  }

  const durationText = opts.duration ?? (s.duration !== undefined ? String(s.duration) : undefined);
  let timer: NodeJS.Timeout | undefined;
  if (durationText !== undefined) {
    const seconds = parseDuration(durationText);
    if (seconds === undefined) out(`error: duration ${JSON.stringify(durationText)} is not a duration; running until stopped`);
    else timer = setTimeout(() => (out(`duration ${formatDuration(seconds)} reached: stopping`), stopRequested?.()), running.clock.realMs(seconds));
  }

  await stopSignal;
  clearTimeout(timer);
  rl.close();
  process.stdin.destroy();
  await running.stop();
  cleanupSignals();
  out('stopped');
}
