import Type from 'typebox';

/**
 * How busy a place is over a campus day, 0..1 per hour (index = hour). Shapes follow a teaching
 * timetable (classes 08:00-21:00, lunch and supper dips), dorm life (out in the morning, back in the
 * evening, curfew at 23:00) and canteen meal times.
 */
const PROFILES = {
  office: [0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.35, 0.9, 1, 0.95, 0.9, 0.55, 0.6, 0.95, 1, 0.9, 0.7, 0.45, 0.5, 0.45, 0.3, 0.1, 0.04],
  dorm: [0.08, 0.03, 0.01, 0.01, 0.01, 0.03, 0.35, 0.95, 0.8, 0.4, 0.3, 0.45, 0.8, 0.7, 0.35, 0.3, 0.4, 0.75, 0.85, 0.7, 0.75, 0.9, 1, 0.3],
  lab: [0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.2, 0.8, 1, 1, 0.85, 0.3, 0.5, 0.95, 1, 0.9, 0.6, 0.25, 0.3, 0.25, 0.1, 0.03, 0.01],
  canteen: [0.02, 0.01, 0.01, 0.01, 0.02, 0.15, 0.85, 1, 0.45, 0.2, 0.35, 1, 0.9, 0.3, 0.15, 0.15, 0.4, 1, 0.85, 0.3, 0.2, 0.15, 0.05, 0.02],
  always: Array.from({ length: 24 }, () => 1),
} satisfies Record<string, number[]>;

export type Profile = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as Profile[];

export const ProfileSchema = (def: Profile, description: string) =>
  Type.Union(
    PROFILE_NAMES.map((p) => Type.Literal(p)),
    { default: def, description },
  );

/** Activity at a fractional hour, linearly interpolated so curves have no steps on the hour. */
export function activity(profile: Profile, hour: number): number {
  const curve = PROFILES[profile];
  const h = ((hour % 24) + 24) % 24;
  const i = Math.floor(h);
  const a = curve[i]!;
  const b = curve[(i + 1) % 24]!;
  return a + (b - a) * (h - i);
}

/**
 * Share of passages that go IN at this hour: dorms empty out in the morning and fill up at night,
 * teaching and office buildings the other way round.
 */
export function inShare(profile: Profile, hour: number): number {
  const morning = hour >= 6 && hour < 10;
  const evening = hour >= 17 && hour < 24;
  if (profile === 'dorm') return morning ? 0.15 : evening ? 0.8 : 0.5;
  if (profile === 'always') return 0.5;
  return morning ? 0.85 : evening ? 0.2 : 0.5;
}
