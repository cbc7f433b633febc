#!/usr/bin/env node
// Warden runs its TypeScript sources directly through tsx's loader: no build step for the back end.
import { register } from 'tsx/esm/api';

register();

// Started by `warden start` (deploy/src/supervisor.ts) with an IPC channel: when the launcher dies, even by SIGKILL,
// the channel closes and this component stops itself (SIGTERM: the normal graceful stop; forced after 10 s).
if (process.env.WARDEN_EXIT_WITH_PARENT === '1' && process.channel) {
  process.channel.unref();
  process.on('disconnect', () => {
    setTimeout(() => process.exit(1), 10_000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
}

await import('./cli.ts');
