import type { CampusPlan } from '@warden/simulators';

/** Kinds an operator looks for on the plan, in the order they get a place when a building has too many. */
const SHOWN = ['door', 'face_terminal', 'turnstile', 'emergency_post', 'intrusion_zone', 'camera', 'fire_sensor'] as const;
const MAX_PER_BUILDING = 40;
const CELL_W = 320;
const CELL_H = 240;
const PER_ROW = 10;
const STEP = 28;

export interface SitePlan {
  svg: string;
  width: number;
  height: number;
  markers: Array<{ device: string; x: number; y: number }>;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A schematic site plan for a simulated campus: one block per gateway's building on a grid, with markers for
 * its security devices laid out in rows inside the block. A real site uses its own drawing (hub config
 * `site.plan`, `site.markers`); this one only has to make the console's site page meaningful out of the box.
 */
export function schematicSitePlan(plan: CampusPlan): SitePlan {
  const cols = Math.max(1, Math.ceil(Math.sqrt(plan.gateways.length)));
  const rows = Math.max(1, Math.ceil(plan.gateways.length / cols));
  const width = cols * CELL_W;
  const height = rows * CELL_H;
  const parts: string[] = [];
  const markers: SitePlan['markers'] = [];
  plan.gateways.forEach((g, i) => {
    const x0 = (i % cols) * CELL_W;
    const y0 = Math.floor(i / cols) * CELL_H;
    parts.push(
      `<rect x="${x0 + 10}" y="${y0 + 10}" width="${CELL_W - 20}" height="${CELL_H - 20}" rx="8" fill="#e6ebf2" stroke="#9aa7b8" stroke-width="2"/>`,
      `<text x="${x0 + 22}" y="${y0 + 34}" font-family="sans-serif" font-size="15" fill="#334">${escape(g.name ?? g.id)}</text>`,
    );
    const devices = SHOWN.flatMap((kind) => g.devices.filter((d) => d.kind === kind)).slice(0, MAX_PER_BUILDING);
    devices.forEach((d, k) => {
      markers.push({ device: d.id, x: x0 + 34 + (k % PER_ROW) * STEP, y: y0 + 62 + Math.floor(k / PER_ROW) * STEP * 1.3 });
    });
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><rect width="${width}" height="${height}" fill="#f7f9fc"/>${parts.join('')}</svg>`;
  return { svg, width, height, markers };
}
