import type { MeterModel } from './types.ts';
import { sdm630 } from './sdm630.ts';
import { waterU32Litres } from './water-u32-litres.ts';

export type { MeterModel, MeterState } from './types.ts';

/**
 * Simulated meter models by name. The names match the edge's register maps (a gateway config says
 * `map: sdm630`), but each model here is written from the meter's datasheet on its own, never from the
 * edge's maps. A new model = one file here plus its golden test.
 */
export const METER_MODELS: ReadonlyMap<string, MeterModel> = new Map([sdm630, waterU32Litres].map((m) => [m.name, m]));
