import type { CampusPlan, PlanGateway } from '@warden/simulators';
import { freePort } from './testing.ts';

/** The campus's video points (seed-excerpts: 现有视频监控点位1311个). */
export const FULL_CAMPUS_CAMERAS = 1311;
/** Demo campus: this many cameras per building, in the doors' zone. */
export const DEMO_CAMERAS_PER_BUILDING = 2;
/** Full campus: cameras whose stream the hub relays live (the others: health and snapshots only). */
export const FULL_CAMPUS_LIVE_CAMERAS = 8;

export interface PlanCamera {
  id: string;
  gateway: string;
  building: string;
  zone: string;
  /** Chinese · English. */
  name: string;
  /** PullPoint motion/tamper events (door cameras); the rest are probed for health only. */
  events: boolean;
  /** The hub relays its stream live (video.cameras url); otherwise snapshots only. */
  live: boolean;
  ptz: boolean;
}

const SECURITY_KINDS = new Set(['door', 'turnstile', 'face_terminal', 'fire_sensor', 'intrusion_zone', 'emergency_post']);

/** '1F', '2F', ... of a gateway's devices (smoke detectors are on every floor); at least 1F. */
function floors(g: PlanGateway): string[] {
  const zones = new Set(g.devices.map((d) => d.zone).filter((z): z is string => !!z && /^\d+F$/.test(z)));
  zones.add('1F');
  return [...zones].sort((a, b) => parseInt(a) - parseInt(b));
}

/** Splits `total` over weights, largest remainder first, each at least `min`. */
function apportion(weights: number[], total: number, min: number): number[] {
  const rest = total - min * weights.length;
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (rest * w) / sum);
  const out = exact.map((x) => min + Math.floor(x));
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0, left = total - out.reduce((a, b) => a + b, 0); k < left; k++) {
    const i = order[k % order.length]![1];
    out[i] = out[i]! + 1;
  }
  return out;
}

/**
 * The cameras `npm start` serves from one virtual ONVIF simulator, derived from the campus plan (none for a
 * hand-made plan without `scale`). Demo: two per building in 1F, where the doors are, so a forced door's or a
 * fire's linkage pops them; both with events and live video. Full: 1,311 spread over the buildings in
 * proportion to their security devices (the seed excerpts give no split), the first two of each building at
 * the doors in 1F with events, the rest over its floors, health and snapshots only; live video for a handful.
 */
export function campusCameras(plan: CampusPlan): PlanCamera[] {
  if (!plan.scale) return [];
  const weights = plan.gateways.map((g) => g.devices.filter((d) => SECURITY_KINDS.has(d.kind)).length + 1);
  const counts = plan.scale === 'full' ? apportion(weights, FULL_CAMPUS_CAMERAS, DEMO_CAMERAS_PER_BUILDING) : plan.gateways.map(() => DEMO_CAMERAS_PER_BUILDING);
  const out: PlanCamera[] = [];
  plan.gateways.forEach((g, gi) => {
    const code = g.id.replace(/^gw-/, '');
    const [zh, en] = g.name.split(' · ');
    const fl = floors(g);
    const perZone = new Map<string, number>();
    for (let i = 0; i < counts[gi]!; i++) {
      const door = i < DEMO_CAMERAS_PER_BUILDING;
      const zone = door ? '1F' : fl[(i - DEMO_CAMERAS_PER_BUILDING) % fl.length]!;
      const k = (perZone.get(zone) ?? 0) + 1;
      perZone.set(zone, k);
      const nn = String(k).padStart(2, '0');
      out.push({
        id: `cam-${code}-${zone.toLowerCase()}-${nn}`,
        gateway: g.id,
        building: g.building,
        zone,
        name: door ? `${zh}${parseInt(zone)}层门厅摄像机${k} · ${en} ${zone} entrance camera ${k}` : `${zh}${parseInt(zone)}层摄像机${nn} · ${en} ${zone} camera ${nn}`,
        events: door,
        live: plan.scale !== 'full',
        // One PTZ dome per building (the first), fixed cameras elsewhere.
        ptz: i === 0,
      });
    }
  });
  if (plan.scale === 'full') out.filter((c) => c.events).slice(0, FULL_CAMPUS_LIVE_CAMERAS).forEach((c) => (c.live = true));
  return out;
}

/**
 * The camera simulator's ports for `npm start`: WARDEN_CAMERA_PORT (ONVIF/HTTP, snapshots) and WARDEN_RTSP_PORT,
 * else free ports picked at start (the layout is written anew on every start, so gateways and hub follow).
 */
export async function cameraPorts(env: NodeJS.ProcessEnv = process.env): Promise<{ port: number; rtspPort: number }> {
  const pick = async (name: string): Promise<number> => {
    const raw = env[name];
    if (raw === undefined || raw === '') return freePort();
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${raw} is not a TCP port (1-65535)`);
    return n;
  };
  return { port: await pick('WARDEN_CAMERA_PORT'), rtspPort: await pick('WARDEN_RTSP_PORT') };
}
