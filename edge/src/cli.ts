import { pino } from 'pino';
import { EdgeConfigError, loadEdgeConfig } from './config.ts';
import { startEdgeAgent } from './agent.ts';

/**
 * `warden edge --config gateway.yaml`: loads the config (every error listed with its path), starts
 * the agent, prints where it listens, and stops cleanly on SIGINT / SIGTERM.
 */
export async function runEdge(opts: { config: string }): Promise<void> {
  let config;
  try {
    config = loadEdgeConfig(opts.config);
  } catch (err) {
    if (!(err instanceof EdgeConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = pino({ name: 'warden-edge', level: process.env.WARDEN_LOG_LEVEL || 'info' });
  let agent;
  try {
    agent = await startEdgeAgent(config, { logger });
  } catch (err) {
    // Start-up failures are about the machine (port taken, outbox not writable): say which, without a stack.
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    const where = e.code === 'EADDRINUSE' || e.code === 'EACCES' ? ` (${e.address}:${e.port})` : '';
    process.stderr.write(`edge ${config.gateway.id}: cannot start: ${e.message}${where}\n`);
    process.exitCode = 1;
    return;
  }
  const lines = [
    `edge ${config.gateway.id}: field broker listening on mqtt://${agent.field.host}:${agent.field.port}`,
    `edge ${config.gateway.id}: hub ${config.hub.url}, outbox ${config.outbox.path} (${agent.backlog()} queued)`,
  ];
  if (agent.metricsPort !== null) lines.push(`edge ${config.gateway.id}: metrics on http://${config.metrics.host}:${agent.metricsPort}/metrics`);
  process.stdout.write(lines.join('\n') + '\n');

  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    // Whatever is still open after a clean stop must not keep the process around.
    setTimeout(() => process.exit(process.exitCode ?? 0), 10_000).unref();
    agent.stop().then(
      () => process.exit(process.exitCode ?? 0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
