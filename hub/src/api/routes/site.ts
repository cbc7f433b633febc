import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { inScope, isScoped } from '../../auth/policy.ts';
import { userOf } from '../access.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

/** The site plan (an SVG from config) with device markers, for the console's map. */
export const siteRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  const site = s.config.site;
  // Read once at start: a missing plan file is a start-up error, not a broken page later.
  let svg: string | null = null;
  if (site.plan !== undefined) {
    try {
      svg = await readFile(site.plan, 'utf8');
    } catch (err) {
      throw new Error(`site.plan: cannot read ${site.plan}: ${(err as Error).message}`);
    }
    if (!/<svg[\s>]/i.test(svg)) throw new Error(`site.plan: ${site.plan} is not an SVG file`);
  }
  app.get(
    '/api/site',
    {
      config: { access: [] },
      schema: { ...route('GET /api/site', 401), tags: ['alarms'], security: [{ bearer: [] }] },
    },
    // A user scoped to buildings/zones gets only the markers of devices in their scope (an unknown device: none).
    async (req) => {
      const scope = userOf(req).scope;
      const markers = site.markers.map((m) => {
        const d = s.devices.get(m.device);
        return { device: m.device, x: m.x, y: m.y, kind: d?.kind ?? null, name: d?.name ?? null, building: d?.building ?? null, zone: d?.zone ?? null, online: d?.online ?? false };
      });
      return {
        plan: svg === null ? null : { svg, width: site.width, height: site.height },
        markers: isScoped(scope) ? markers.filter((m) => inScope(scope, m)) : markers,
      };
    },
  );
};
