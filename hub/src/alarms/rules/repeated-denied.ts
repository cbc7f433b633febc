import type { AlarmRule } from '../types.ts';
import { boundWindow, SWEEP_MS } from '../window.ts';

/** Credentials and doors tracked at most; beyond it (a flood of one-off credentials) the oldest are dropped. */
export const DENIED_CAP = 50_000;

/**
 * deniedThreshold access.denied within deniedWindowSeconds on one credential (anywhere) or on one door
 * (any credential) — someone trying cards or PINs (GB 50396).
 *
 * Durable across a hub restart: the denial times still inside the window, per credential and per door, written in
 * the ingest batch's commit (coalesced per key); swept once a minute, capped at DENIED_CAP keys.
 */
export const repeatedDenied: AlarmRule = {
  id: 'repeated-denied',
  types: ['access.repeated_denied'],
  events: ['access.denied'],
  create(ctx) {
    const { deniedThreshold, deniedWindowSeconds } = ctx.settings.raw;
    const windowMs = deniedWindowSeconds * 1000;
    /** `c:<credential>` or `d:<door>` -> denial times (source time) within the window, oldest first. */
    const recent = ctx.state<number[]>('recent');
    const newest = (v: number[]) => v[v.length - 1] ?? 0;
    let swept = 0;
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
        // Bound memory and rows under a flood of one-off credentials.
        if (recent.size > DENIED_CAP) boundWindow(recent, newest, (v) => e.ts - newest(v) >= windowMs, DENIED_CAP);
      },
      tick(now) {
        if (now - swept < SWEEP_MS) return;
        swept = now;
        boundWindow(recent, newest, (v) => now - newest(v) >= windowMs, DENIED_CAP);
      },
    };
  },
};
