import type { RawNotification } from './onvif-client.ts';

/**
 * ONVIF event notifications -> what Warden records. Brands name the same thing differently; the
 * topics and data items below cover the ONVIF core topics and the common rule-engine ones:
 *
 * | kind   | topic contains                                                  | data item                      |
 * |--------|-----------------------------------------------------------------|--------------------------------|
 * | motion | VideoSource/MotionAlarm, RuleEngine/CellMotionDetector/Motion, MotionDetector | State, IsMotion |
 * | tamper | VideoSource/GlobalSceneChange, RuleEngine/TamperDetector/Tamper  | State, IsTamper, IsGlobalSceneChange |
 *
 * Anything else is counted as ignored, not an error (cameras announce many topics).
 */

export interface CameraNotification {
  kind: 'motion' | 'tamper';
  state: boolean;
  /** Camera time of the change in ms, when the message carried one. */
  at: number | null;
  /** `Initialized` = the state when subscribing, `Changed` = a change, `Deleted` = gone. */
  operation: string;
}

const RULES: ReadonlyArray<{ kind: 'motion' | 'tamper'; topic: RegExp; items: readonly string[] }> = [
  { kind: 'motion', topic: /(VideoSource\/MotionAlarm|CellMotionDetector\/Motion|MotionDetector)/i, items: ['State', 'IsMotion'] },
  { kind: 'tamper', topic: /(GlobalSceneChange|TamperDetector\/Tamper)/i, items: ['State', 'IsTamper', 'IsGlobalSceneChange'] },
];

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function topicOf(n: RawNotification): string {
  const t = n.topic;
  if (typeof t === 'string') return t;
  const inner = obj(t)._;
  return typeof inner === 'string' ? inner : '';
}

function truthy(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
  }
  return null;
}

export function parseNotification(n: RawNotification): CameraNotification | null {
  // a camera's NotificationMessage list can hold an empty entry (null after xml2js); found by fuzzing: it threw
  if (n === null || typeof n !== 'object') return null;
  const topic = topicOf(n);
  const rule = RULES.find((r) => r.topic.test(topic));
  if (!rule) return null;
  const message = obj(obj(n.message).message);
  const attrs = obj(message.$);
  let state: boolean | null = null;
  for (const item of list(obj(message.data).simpleItem)) {
    const a = obj(obj(item).$);
    if (typeof a.Name === 'string' && rule.items.includes(a.Name)) {
      state = truthy(a.Value);
      if (state !== null) break;
    }
  }
  if (state === null) return null;
  const utc = attrs.UtcTime;
  const at = utc instanceof Date ? utc.getTime() : typeof utc === 'string' && !Number.isNaN(Date.parse(utc)) ? Date.parse(utc) : null;
  return { kind: rule.kind, state, at, operation: typeof attrs.PropertyOperation === 'string' ? attrs.PropertyOperation : 'Changed' };
}
