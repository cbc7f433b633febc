import { Counter, Registry } from 'prom-client';

/** The simulators' own registry, so embedding them in another process never clashes with its metrics. */
export const simRegistry = new Registry();

export const commandsTotal = new Counter({
  name: 'warden_sim_commands_total',
  help: 'Commands received by simulated devices, by device type and result (ok, error)',
  labelNames: ['type', 'result'] as const,
  registers: [simRegistry],
});

/** Commands a device could not even answer (no ref, not JSON): counted so they are never lost silently. */
export const badCommandsTotal = new Counter({
  name: 'warden_sim_bad_commands_total',
  help: 'Command messages refused by simulated devices, by device type and reject reason',
  labelNames: ['type', 'reason'] as const,
  registers: [simRegistry],
});

export const publishedTotal = new Counter({
  name: 'warden_sim_published_total',
  help: 'Messages published by simulated devices, by device type',
  labelNames: ['type'] as const,
  registers: [simRegistry],
});

export const publishErrorsTotal = new Counter({
  name: 'warden_sim_publish_errors_total',
  help: 'Publishes that failed or were discarded (offline buffer full), by device type and reason',
  labelNames: ['type', 'reason'] as const,
  registers: [simRegistry],
});
