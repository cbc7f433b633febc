import {
  parseJson,
  validateBatchEnvelope,
  validateRecord,
  type EventRecord,
  type RejectReason,
  type TelemetryRecord,
} from '@warden/contract';
import { excerpt, type DeadLetter } from '../store/events.ts';
import { safetyKinds } from './safety-kinds.ts';

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
      /** 'priority': a priority-lane batch (non-contiguous seqs), acknowledged by `seqs`, never cumulatively. */
      lane?: 'priority';
      /** Every seq of the batch's records, stored or rejected (those with a usable seq): a priority ack names them. */
      seqs: number[];
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
/** What the hub's device registry says about a device. */
export interface RegistryLookup {
  /** The gateway the device is registered (or proposed) to. */
  owner(device: string): string | undefined;
  /** The registered kind when the hub adopted the device; undefined for unknown and proposed devices. */
  adoptedKind(device: string): string | undefined;
}

export function examineUplink(gateway: string, payload: Buffer, registry: RegistryLookup): UplinkPlan {
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
  const seqs: number[] = [];
  for (const raw of env.value.records) {
    const seq = seqOf(raw);
    if (seq !== null && (upTo === null || seq > upTo)) upTo = seq;
    if (seq !== null) seqs.push(seq);
    const r = validateRecord(raw);
    if (!r.ok) {
      rejections.push({ gateway, reason: r.reason, detail: r.detail, recordId: idOf(raw), raw: excerpt(JSON.stringify(raw)) });
      continue;
    }
    const owner = registry.owner(r.value.device);
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
    // Only devices the hub adopted speak: a gateway's inventory merely proposes a device (hub README, "Device registry").
    const kind = registry.adoptedKind(r.value.device);
    if (kind === undefined) {
      rejections.push({
        gateway,
        reason: 'device_not_adopted',
        detail: `device ${r.value.device} is not adopted by the hub (proposed by gateway ${gateway}'s inventory, or rejected by an admin: GET /api/devices/${r.value.device})`,
        recordId: r.value.id,
        raw: excerpt(JSON.stringify(raw)),
      });
      continue;
    }
    if (r.value.kind === 'event') {
      const allowed = safetyKinds(r.value.type);
      if (allowed && !allowed.includes(kind)) {
        rejections.push({
          gateway,
          reason: 'kind_mismatch',
          detail: `${r.value.type} from ${r.value.device}, registered as ${kind}: only ${allowed.join(', ')} may raise it`,
          recordId: r.value.id,
          raw: excerpt(JSON.stringify(raw)),
        });
        continue;
      }
      events.push(r.value);
    } else telemetry.push(r.value);
  }
  return { ok: true, events, telemetry, rejections, upTo, seqs, ...(env.value.lane ? { lane: env.value.lane } : {}) };
}
