import type { RegisterMap } from '../register-map.ts';
import { checkMap } from '../register-map.ts';
import { sdm630 } from './sdm630.ts';
import { waterU32Litres } from './water-u32-litres.ts';

/** Every register map, by the name a device's `options.map` uses. A test checks each file is listed and valid. */
export const REGISTER_MAPS: ReadonlyMap<string, RegisterMap> = new Map([sdm630, waterU32Litres].map((m) => [m.name, m]));

export const REGISTER_MAP_NAMES: readonly string[] = [...REGISTER_MAPS.keys()];

for (const map of REGISTER_MAPS.values()) {
  const problems = checkMap(map);
  if (problems.length) throw new Error(`invalid register map: ${problems.join('; ')}`);
}
