import type { AlarmRule } from '../types.ts';

/**
 * deniedThreshold access.denied within deniedWindowSeconds on one credential (anywhere) or on one door
 * (any credential) — someone trying cards or PINs (GB 50396).
 */
export const repeatedDenied: AlarmRule = {
  id: 'repeated-denied',
  types: ['access.repeated_denied'],
  events: ['access.denied'],
  create(ctx) {
    const { deniedThreshold, deniedWindowSeconds } = ctx.settings.raw;
    const windowMs = deniedWindowSeconds * 1000;
    const recent = new Map<string, number[]>();
    /** Adds ts to the key's window; true when the window now holds the threshold. */
    const hit = (key: string, ts: number) => {
      const list = (recent.get(key) ?? []).filter((t) => ts - t < windowMs);
      list.push(ts);
      if (list.length >= deniedThreshold) {
        recent.delete(key);
        return true;
      }
      recent.set(key, list);
      return false;
    };
    return {
      onEvent(e) {
        const credential = typeof e.data.credential === 'string' ? e.data.credential : null;
        const detail = { threshold: deniedThreshold, windowSeconds: deniedWindowSeconds, reason: e.data.reason };
        if (credential && hit(`c:${credential}`, e.ts)) ctx.raise({ type: 'access.repeated_denied', device: e.device, credential, ts: e.ts, event: e, detail });
        if (hit(`d:${e.device}`, e.ts)) ctx.raise({ type: 'access.repeated_denied', device: e.device, credential: null, ts: e.ts, event: e, detail });
        // Bound memory under a flood of one-off credentials.
        if (recent.size > 50_000) for (const [k, v] of recent) if (e.ts - v[v.length - 1]! >= windowMs) recent.delete(k);
      },
    };
  },
};
