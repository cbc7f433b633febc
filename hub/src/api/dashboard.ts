import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiApp } from './services.ts';
import { errorBody } from '../errors.ts';

const MISSING = (dir: string) =>
  `The Warden console is not built (no ${join(dir, 'index.html')}).\nRun \`npm run build\` in the repository, then reload.\n`;

/**
 * Serves the console build at / with a single-page-app fallback: any GET outside /api that is not a file answers
 * index.html, so deep links work. Without a build, those paths answer 503 saying how to make one.
 */
export async function registerDashboard(app: ApiApp, dir: string): Promise<void> {
  const built = existsSync(join(dir, 'index.html'));
  if (built) await app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'] });
  else app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.code(503).type('text/plain; charset=utf-8').send(MISSING(dir)));

  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    if (path.startsWith('/api/') || path === '/api' || req.method !== 'GET') {
      return reply.code(404).send(errorBody('not_found', `No such route: ${req.method} ${path}`));
    }
    if (!built) return reply.code(503).type('text/plain; charset=utf-8').send(MISSING(dir));
    return reply.type('text/html; charset=utf-8').sendFile('index.html');
  });
}
