import {
  parseJson,
  validateBatchEnvelope,
  validateRecord,
  type EventRecord,
  type RejectReason,
  type TelemetryRecord,
} from '@warden/contract';
import { excerpt, type DeadLetter } from '../store/events.ts';

export interface Rejection extends DeadLetter {
  reason: RejectReason;
}

export type UplinkPlan =
  | { ok: false; rejection: Rejection }
  | {
      ok: true;
      events: EventRecord[];
      telemetry: TelemetryRecord[];
      rejections: Rejection[];
      /** Highest seq among the batch's records, stored or rejected: what the ack may cover. */
      upTo: number | null;
    };

function seqOf(raw: unknown): number | null {
  const seq = (raw as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1 ? seq : null;
}

function idOf(raw: unknown): string | null {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id.slice(0, 64) : null;
}

/**
 * Decides what to do with one uplink message, without side effects: parse, check the envelope (its gateway must be
 * the topic's), then check every record on its own so one bad record does not hold back the rest. A message whose
 * envelope fails is refused whole and not acknowledged: its records cannot be trusted to be what their seqs say.
 */
export function examineUplink(gateway: string, payload: Buffer, ownerOf: (device: string) => string | undefined): UplinkPlan {
  const parsed = parseJson(payload);
  if (!parsed.ok) return { ok: false, rejection: { gateway, reason: parsed.reason, detail: parsed.detail, raw: excerpt(payload) } };
  const env = validateBatchEnvelope(parsed.value);
  if (!env.ok) return { ok: false, rejection: { gateway, reason: env.reason, detail: env.detail, raw: excerpt(payload) } };
  if (env.value.gw !== gateway) {
    return {
      ok: false,
      rejection: { gateway, reason: 'wrong_gateway', detail: `batch says gw ${JSON.stringify(env.value.gw)} on gateway ${gateway}'s topic`, raw: excerpt(payload) },
    };
  }
  const events: EventRecord[] = [];
  const telemetry: TelemetryRecord[] = [];
  const rejections: Rejection[] = [];
  let upTo: number | null = null;
  for (const raw of env.value.records) {
    const seq = seqOf(raw);
    if (seq !== null && (upTo === null || seq > upTo)) upTo = seq;
    const r = validateRecord(raw);
    if (!r.ok) {
      rejections.push({ gateway, reason: r.reason, detail: r.detail, recordId: idOf(raw), raw: excerpt(JSON.stringify(raw)) });
      continue;
    }
    const owner = ownerOf(r.value.device);
    if (owner !== gateway) {
      rejections.push({
        gateway,
        reason: 'unknown_device',
        detail: owner === undefined ? `device ${r.value.device} is not registered` : `device ${r.value.device} belongs to gateway ${owner}`,
        recordId: r.value.id,
        raw: excerpt(JSON.stringify(raw)),
      });
      continue;
    }
    if (r.value.kind === 'event') events.push(r.value);
    else telemetry.push(r.value);
  }
  return { ok: true, events, telemetry, rejections, upTo };
}
