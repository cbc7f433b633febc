import { createHmac } from 'node:crypto';
import type { AttendanceSettings, NightRow } from '@warden/contract';
import { localClock } from './tz.ts';

export type Webhook = AttendanceSettings['webhooks'][number];

const STATE_ZH: Record<string, string> = { late: '晚归', absent: '未归', unknown: '未知（设备离线）', leave: '请假', in: '在寝', exempt: '免查', pending: '未到查寝时间' };

/** The late/absent list of one building's night as Markdown (Chinese: the robots post into campus staff groups). */
export function reportMarkdown(night: string, building: string, rows: readonly NightRow[], tz: string): { title: string; text: string } {
  const late = rows.filter((r) => r.state === 'late');
  const absent = rows.filter((r) => r.state === 'absent');
  const unknown = rows.filter((r) => r.state === 'unknown');
  const title = `${building} ${night} 查寝：未归 ${absent.length}，晚归 ${late.length}`;
  const line = (r: NightRow) =>
    `- ${r.floor}层 ${r.room} ${r.name}（${r.student}）${STATE_ZH[r.state] ?? r.state}${r.at !== null ? ` ${localClock(r.at, tz)}` : ''}${r.outAgain ? '，又外出' : ''}`;
  const parts = [`### ${title}`];
  if (absent.length) parts.push('**未归**', ...absent.map(line));
  if (late.length) parts.push('**晚归**', ...late.map(line));
  if (unknown.length) parts.push(`**设备离线，状态未知 ${unknown.length} 人**`, ...unknown.map(line));
  if (!absent.length && !late.length && !unknown.length) parts.push('全部按时归寝。');
  return { title, text: parts.join('\n') };
}

/** The robots' public JSON: DingTalk `markdown.{title,text}`, WeCom `markdown.content`. */
export function webhookBody(kind: Webhook['kind'], md: { title: string; text: string }): unknown {
  // Both robots refuse messages above about 4 KB of Markdown (DingTalk 20000 bytes, WeCom 4096): cut, say so.
  const max = kind === 'wecom' ? 4000 : 18000;
  const text = Buffer.byteLength(md.text) > max ? `${Buffer.from(md.text).subarray(0, max - 60).toString('utf8').replace(/\uFFFD*$/, '')}\n…（完整名单见控制台）` : md.text;
  return kind === 'dingtalk' ? { msgtype: 'markdown', markdown: { title: md.title, text } } : { msgtype: 'markdown', markdown: { content: text } };
}

/** DingTalk's optional signature: timestamp and HMAC-SHA256 of "timestamp\nsecret", as query parameters. */
export function signedUrl(hook: Webhook, now: number): string {
  if (hook.kind !== 'dingtalk' || !hook.secret) return hook.url;
  const sign = createHmac('sha256', hook.secret).update(`${now}\n${hook.secret}`).digest('base64');
  const u = new URL(hook.url);
  u.searchParams.set('timestamp', String(now));
  u.searchParams.set('sign', sign);
  return u.toString();
}

/** Posts one message; resolves with an error text (never throws). Both robots answer 200 with errcode 0 on success. */
export async function sendWebhook(hook: Webhook, body: unknown, now: number, timeoutMs = 5000): Promise<string | null> {
  try {
    const res = await fetch(signedUrl(hook, now), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) return `HTTP ${res.status}`;
    try {
      const j = JSON.parse(text) as { errcode?: number; errmsg?: string };
      if (typeof j.errcode === 'number' && j.errcode !== 0) return `errcode ${j.errcode}: ${j.errmsg ?? ''}`;
    } catch {
      // A relay that answers 200 without JSON accepted the message.
    }
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
