/**
 * Safety events and the device kinds that may raise them. A `fire.alarm` releases a building's doors, so it is
 * accepted only from a device the hub registered as a fire sensor; an event of these families from any other
 * device is refused (dead letter, reason kind_mismatch). One line per family; a new safety device type adds its
 * kind here.
 */
export const SAFETY_EVENT_KINDS: Readonly<Record<string, readonly string[]>> = {
  fire: ['fire_sensor'],
  intrusion: ['intrusion_zone'],
  emergency: ['emergency_post'],
  door: ['door'],
};

/** The kinds allowed to raise this event type, or undefined when it is not a safety event. */
export function safetyKinds(type: string): readonly string[] | undefined {
  const family = type.slice(0, type.indexOf('.'));
  return type.includes('.') ? SAFETY_EVENT_KINDS[family] : undefined;
}

/**
 * The priority lane: fire, intrusion, emergency, forced doors and any tamper are stored and raised ahead of bulk
 * traffic (ingestor.ts). The same families the edge outbox never sheds (edge/src/outbox.ts, isSafetyEvent).
 */
export function isPriorityEvent(type: string): boolean {
  return (
    type.startsWith('fire.') ||
    type.startsWith('intrusion.') ||
    type.startsWith('emergency.') ||
    type === 'door.forced' ||
    type.endsWith('.tamper') ||
    type === 'linkage.failsafe'
  );
}

/** Byte patterns at least one of which an uplink payload carrying a priority event contains (a cheap pre-check). */
const PRIORITY_MARKERS = ['"fire.', '"intrusion.', '"emergency.', '"door.forced"', '.tamper"', '"linkage.failsafe"'].map((s) => Buffer.from(s));

/** False when the payload certainly carries no priority event (most bulk batches: no JSON parse needed). */
export function mayCarryPriority(payload: Buffer): boolean {
  return PRIORITY_MARKERS.some((m) => payload.includes(m));
}
