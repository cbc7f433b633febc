import type { CampusPlan } from '@warden/simulators';

type Use = 'teaching' | 'dorm' | 'lab' | 'office' | 'canteen' | 'library' | 'other';

/** The campus plan names buildings by gateway; its meters carry a load profile that says what the building is used for. */
function buildingUse(gatewayId: string, profile: unknown): Use {
  if (/lib/.test(gatewayId)) return 'library';
  if (/teach/.test(gatewayId)) return 'teaching';
  if (profile === 'dorm' || profile === 'lab' || profile === 'canteen' || profile === 'office') return profile;
  return 'other';
}

/**
 * The `energy:` section of the hub config for a simulated campus: one building node per gateway with its
 * meters, a time-of-use power tariff (Zhejiang-style peak/flat/valley), tiered water and gas, and weekly
 * schedules for each building's lighting and HVAC circuits — so the console's energy pages have a real
 * hierarchy, costs and schedules on `npm start`.
 */
export function energySection(plan: CampusPlan): Record<string, unknown> {
  const nodes: Array<Record<string, unknown>> = [{ id: 'campus', name: '校园 · Campus', type: 'campus' }];
  const meters: Array<Record<string, unknown>> = [];
  const schedules: Array<Record<string, unknown>> = [];
  for (const g of plan.gateways) {
    const meterDevices = g.devices.filter((d) => d.driver === 'meter' && d.medium);
    const relays = g.devices.filter((d) => d.driver === 'relay-actuator');
    if (meterDevices.length === 0 && relays.length === 0) continue;
    const node = `b-${g.building}`;
    nodes.push({ id: node, name: g.name, type: 'building', parent: 'campus', use: buildingUse(g.id, meterDevices[0]?.options?.profile) });
    for (const m of meterDevices) meters.push({ id: m.id, node, medium: m.medium });
    const byCircuit = (c: string) => relays.filter((r) => r.options?.circuit === c).map((r) => r.id);
    const lighting = byCircuit('lighting');
    const hvac = byCircuit('hvac');
    const weekdays = (periods: Array<Record<string, unknown>>) => ({ mon: periods, tue: periods, wed: periods, thu: periods, fri: periods, sat: [], sun: [] });
    if (lighting.length) {
      schedules.push({ id: `${g.building}-lighting`, circuits: lighting, term: weekdays([{ from: '07:00', to: '22:30', level: 80 }]), vacation: weekdays([{ from: '08:00', to: '17:00', level: 50 }]) });
    }
    if (hvac.length) {
      schedules.push({ id: `${g.building}-hvac`, circuits: hvac, term: weekdays([{ from: '07:30', to: '21:00' }]), vacation: weekdays([]) });
    }
  }
  const year = new Date().getUTCFullYear();
  return {
    utcOffsetHours: 8,
    nodes,
    meters,
    tariffs: {
      'grid-tou': {
        kind: 'tou',
        medium: 'power',
        periods: [
          {
            from: `${year - 1}-01-01`,
            to: `${year + 1}-12-31`,
            slots: [
              { from: '00:00', to: '08:00', band: 'valley' },
              { from: '08:00', to: '11:00', band: 'peak' },
              { from: '11:00', to: '13:00', band: 'flat' },
              { from: '13:00', to: '17:00', band: 'peak' },
              { from: '17:00', to: '22:00', band: 'flat' },
              { from: '22:00', to: '24:00', band: 'valley' },
            ],
            prices: { peak: 1.0548, flat: 0.6348, valley: 0.3148 },
          },
        ],
      },
      'water-tiered': { kind: 'tiered', medium: 'water', tiers: [{ upTo: 2000, price: 4.1 }, { upTo: 5000, price: 5.3 }, { price: 7.6 }] },
      'gas-tiered': { kind: 'tiered', medium: 'gas', tiers: [{ upTo: 1000, price: 3.2 }, { price: 3.84 }] },
    },
    defaultTariffs: { power: 'grid-tou', water: 'water-tiered', gas: 'gas-tiered' },
    schedules,
  };
}
