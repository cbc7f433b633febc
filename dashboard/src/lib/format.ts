import type { TFunction } from 'i18next';

const pad = (n: number) => String(n).padStart(2, '0');

/** `HH:mm:ss` for today, `MM-DD HH:mm:ss` otherwise: a control room reads many rows, keep them narrow. */
export function formatTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const n = new Date(now);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  if (sameDay) return time;
  const date = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return d.getFullYear() === n.getFullYear() ? `${date} ${time}` : `${d.getFullYear()}-${date} ${time}`;
}

export function fullTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatTime(ms, ms)}`;
}

export function ago(ms: number | null | undefined, t: TFunction, now = Date.now()): string {
  if (ms === null || ms === undefined) return t('time.never');
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return t('time.secondsAgo', { n: s });
  if (s < 3600) return t('time.minutesAgo', { n: Math.floor(s / 60) });
  if (s < 86_400) return t('time.hoursAgo', { n: Math.floor(s / 3600) });
  return t('time.daysAgo', { n: Math.floor(s / 86_400) });
}

/** Delivery delays shorter than this are normal batching, not worth a mention. */
export const LATE_AFTER_MS = 60_000;

export function delay(ms: number, t: TFunction): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return t('time.delaySeconds', { n: s });
  if (s < 3600) return t('time.delayMinutes', { n: Math.floor(s / 60) });
  return t('time.delayHours', { n: Math.floor(s / 3600) });
}
