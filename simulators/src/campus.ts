import type { DeviceKind } from '@warden/contract';
import type { Profile } from './daily.ts';
import { deviceType } from './registry.ts';
import { createRng, type Rng } from './rng.ts';
import { validateScenario, type Scenario } from './scenario.ts';

type Medium = 'power' | 'water' | 'gas';

export interface PlanDevice {
  id: string;
  /** Edge driver name, which is also the simulator device type. */
  driver: string;
  kind: DeviceKind;
  /** Chinese · English. */
  name: string;
  building: string;
  zone?: string;
  medium?: Medium;
  /** Simulator options for the device (behaviour shape, reader type, panel and zone labels). */
  options?: Record<string, unknown>;
  /** Edge driver options beyond the medium (a face terminal's mode and the door it opens). */
  edge?: Record<string, unknown>;
}

export interface PlanGateway {
  id: string;
  name: string;
  building: string;
  devices: PlanDevice[];
}

export interface CampusPlan {
  /** Set by campusPlan; a hand-made plan (benchmarks, tests) may leave them out. */
  scale?: 'demo' | 'full';
  seed?: number;
  gateways: PlanGateway[];
}

interface Named {
  zh: string;
  en: string;
}

/** One building, one gateway. Counts are per building; ranges are drawn from the plan's seed. */
interface BuildingSpec extends Named {
  code: string;
  building: string;
  use: Profile;
  floors: number;
  /** Smoke detectors per floor (corridors, stairwells, plant rooms), [min, max]. */
  detectorsPerFloor: [number, number];
  doors: Array<Named & { reader?: 'face' }>;
  /** Face terminals deciding on the gateway, each opening one of `doors` (its index). */
  faceTerminals?: Array<Named & { door: number }>;
  turnstiles?: { count: number; where: Named; profile?: Profile; meanIntervalS: number };
  /** Intrusion alarm systems in this building; each has `zones` zones (default: 2-4 from the seed). */
  intrusion?: Array<Named & { zones?: number }>;
  emergency?: Named[];
  meters: Medium[];
  relays: Array<Named & { circuit: 'lighting' | 'hvac' }>;
}

const n = (zh: string, en: string): Named => ({ zh, en });
const name = (b: Named, part: Named): string => `${b.zh}${part.zh} · ${b.en} ${part.en}`;

/** Peak draw per floor by building use: kW, m³/h, m³/h. */
const PEAK_PER_FLOOR: Record<Medium, Partial<Record<Profile, number>> & { other: number }> = {
  power: { office: 22, lab: 38, dorm: 16, canteen: 45, other: 20 },
  water: { dorm: 1.4, canteen: 3, other: 0.35 },
  gas: { canteen: 14, other: 1.5 },
};

function meterProfile(use: Profile, medium: Medium): Profile {
  if (medium === 'gas') return use === 'canteen' ? 'canteen' : 'lab';
  return use;
}

/** Alarm systems are numbered across the campus (IAS-01 ...), in plan order. */
function buildGateway(b: BuildingSpec, rng: Rng, panels: { count: number }): PlanGateway {
  const devices: PlanDevice[] = [];
  const add = (driver: string, id: string, label: string, extra: Partial<PlanDevice> = {}): void => {
    const kind = deviceType(driver)?.kind;
    if (!kind) throw new Error(`campus plan uses unknown driver ${driver}`);
    devices.push({ id, driver, kind, name: label, building: b.building, ...extra });
  };

  b.doors.forEach((d, i) =>
    add('door-controller', `door-${b.code}-${i + 1}`, name(b, d), {
      zone: '1F',
      options: { profile: b.use, ...(d.reader ? { reader: d.reader } : {}) },
    }),
  );
  (b.faceTerminals ?? []).forEach((t, i) => {
    const door = `door-${b.code}-${t.door + 1}`;
    if (!b.doors[t.door]) throw new Error(`campus plan: face terminal ${t.en} of ${b.en} opens door ${t.door}, which does not exist`);
    add('face-terminal', `face-${b.code}-${i + 1}`, name(b, t), { zone: '1F', options: { captureS: 12, cardShare: 0.1 }, edge: { mode: 'access', door } });
  });
  if (b.turnstiles) {
    const t = b.turnstiles;
    for (let i = 1; i <= t.count; i++) {
      add('turnstile', `gate-${b.code}-${i}`, name(b, n(`${t.where.zh}${i}号通道`, `${t.where.en} lane ${i}`)), {
        zone: '1F',
        options: { profile: t.profile ?? b.use, meanIntervalS: t.meanIntervalS },
      });
    }
  }
  for (let f = 1; f <= b.floors; f++) {
    const count = rng.int(b.detectorsPerFloor[0], b.detectorsPerFloor[1]);
    for (let i = 1; i <= count; i++) {
      add('fire-sensor', `smoke-${b.code}-${f}f-${i}`, name(b, n(`${f}层烟感${i}`, `smoke detector ${f}F-${i}`)), { zone: `${f}F` });
    }
  }
  (b.intrusion ?? []).forEach((sys, s) => {
    const panel = `IAS-${String(++panels.count).padStart(2, '0')}`;
    const zones = sys.zones ?? rng.int(2, 4);
    for (let z = 1; z <= zones; z++) {
      add('intrusion-zone', `ias-${b.code}-${s + 1}-z${z}`, name(b, n(`${sys.zh}防区Z${z}`, `${sys.en} zone Z${z}`)), {
        zone: sys.en.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
        options: { panel, zone: `Z${z}` },
      });
    }
  });
  (b.emergency ?? []).forEach((e, i) => add('emergency-post', `sos-${b.code}-${i + 1}`, name(b, e), { zone: 'outdoor' }));
  for (const medium of b.meters) {
    const perFloor = PEAK_PER_FLOOR[medium][b.use] ?? PEAK_PER_FLOOR[medium].other;
    const peak = Math.round(perFloor * b.floors * rng.float(0.85, 1.15) * 10) / 10;
    const label = { power: n('总电表', 'power meter'), water: n('总水表', 'water meter'), gas: n('燃气表', 'gas meter') }[medium];
    add('meter', `meter-${b.code}-${medium}`, name(b, label), { medium, options: { medium, profile: meterProfile(b.use, medium), peak } });
  }
  b.relays.forEach((r, i) => add('relay-actuator', `relay-${b.code}-${i + 1}`, name(b, r), { options: { circuit: r.circuit } }));

  return { id: `gw-${b.code}`, name: `${b.zh} · ${b.en}`, building: b.building, devices };
}

const LIGHTING = (zh: string, en: string) => ({ ...n(zh, en), circuit: 'lighting' as const });
const HVAC = (zh: string, en: string) => ({ ...n(zh, en), circuit: 'hvac' as const });

/** The demo campus: five gateways with 10-15 devices each, enough to show every device type and flow. */
function demoBuildings(): BuildingSpec[] {
  return [
    {
      ...n('图书馆', 'Library'),
      code: 'lib',
      building: 'library',
      use: 'office',
      floors: 4,
      detectorsPerFloor: [1, 1],
      doors: [n('北门', 'north entrance'), n('南门', 'south entrance'), n('员工通道', 'staff door'), n('古籍室', 'rare books room')],
      turnstiles: { count: 2, where: n('入口闸机', 'entrance turnstile'), meanIntervalS: 10 },
      intrusion: [{ ...n('古籍室', 'rare books room'), zones: 1 }],
      emergency: [n('广场一键报警', 'square emergency post')],
      meters: ['power', 'water'],
      relays: [LIGHTING('阅览室照明', 'reading room lighting')],
    },
    {
      ...n('教学楼A', 'Teaching Building A'),
      code: 'teach-a',
      building: 'teaching-a',
      use: 'office',
      floors: 5,
      detectorsPerFloor: [1, 1],
      doors: [n('正门', 'main entrance'), n('东门', 'east door'), n('网络机房', 'server room')],
      meters: ['power', 'water'],
      relays: [LIGHTING('走廊照明', 'corridor lighting'), LIGHTING('教室照明', 'classroom lighting'), HVAC('空调', 'air conditioning')],
    },
    {
      ...n('鹿田公寓1号楼', 'Lutian Apartments Block 1'),
      code: 'lutian-1',
      building: 'lutian-1',
      use: 'dorm',
      floors: 6,
      detectorsPerFloor: [1, 1],
      doors: [n('后门', 'back door'), n('消防通道', 'fire exit')],
      turnstiles: { count: 4, where: n('人脸宿管闸机', 'dorm check-in'), profile: 'dorm', meanIntervalS: 30 },
      meters: ['power', 'water'],
      relays: [],
    },
    {
      ...n('实训楼1号楼', 'Training Building 1'),
      code: 'lab-1',
      building: 'lab-1',
      use: 'lab',
      floors: 4,
      detectorsPerFloor: [1, 1],
      doors: [n('正门', 'main entrance'), n('侧门', 'side door'), { ...n('化学实验室', 'chemistry lab'), reader: 'face' }, { ...n('数控实训室', 'CNC workshop'), reader: 'face' }],
      faceTerminals: [{ ...n('化学实验室人脸门禁', 'chemistry lab face terminal'), door: 2 }],
      intrusion: [{ ...n('危化品库', 'hazardous chemicals store'), zones: 2 }],
      meters: ['power', 'water', 'gas'],
      relays: [HVAC('通风系统', 'fume extraction')],
    },
    {
      ...n('安保中心', 'Security Centre'),
      code: 'sec',
      building: 'security-centre',
      use: 'always',
      floors: 3,
      detectorsPerFloor: [1, 1],
      doors: [n('正门', 'main entrance'), n('110指挥中心', '110 command room'), n('装备室', 'equipment room')],
      intrusion: [{ ...n('装备室', 'equipment room'), zones: 1 }],
      emergency: [n('门前一键报警', 'front emergency post')],
      meters: ['power'],
      relays: [LIGHTING('外围照明', 'perimeter lighting'), HVAC('空调', 'air conditioning')],
    },
  ];
}

/**
 * The whole campus at the scale of the 14th Five-Year Plan (about 30,000 students and staff): 17
 * intrusion alarm systems, 4 one-button emergency posts, 180 dorm face check-in points (turnstile
 * lanes) and 10 face-recognition access doors at key labs, plus the doors, lanes, smoke detectors,
 * meters and lighting/HVAC relays of each building. One gateway per building.
 */
function fullBuildings(): BuildingSpec[] {
  const teaching = 'ABCDEF'.split('').map<BuildingSpec>((letter) => ({
    ...n(`教学楼${letter}`, `Teaching Building ${letter}`),
    code: `teach-${letter.toLowerCase()}`,
    building: `teaching-${letter.toLowerCase()}`,
    use: 'office',
    floors: 5,
    detectorsPerFloor: [4, 6],
    doors: [n('正门', 'main entrance'), n('东门', 'east door'), n('西门', 'west door'), n('弱电间', 'network closet')],
    ...(letter === 'A' ? { intrusion: [n('网络中心机房', 'network centre')] } : {}),
    meters: ['power', 'water'],
    relays: [LIGHTING('走廊照明', 'corridor lighting'), LIGHTING('教室照明', 'classroom lighting'), HVAC('空调', 'air conditioning')],
  }));
  const labNames: Array<[Named, Named]> = [
    [n('化学实验室', 'chemistry lab'), n('分析测试室', 'analysis lab')],
    [n('食品实训室', 'food lab'), n('药品库', 'pharmacy store')],
    [n('数控实训室', 'CNC workshop'), n('焊接实训室', 'welding workshop')],
    [n('电气实训室', 'electrical lab'), n('汽修实训室', 'vehicle workshop')],
    [n('网络实训室', 'network lab'), n('服务器机房', 'server room')],
    [n('创新工坊', 'maker space'), n('设备间', 'plant room')],
  ];
  // The ten face-recognition doors of the 2022 project are at the key labs of training buildings 1-5.
  const labs = labNames.map<BuildingSpec>(([a, b], i) => ({
    ...n(`实训楼${i + 1}号楼`, `Training Building ${i + 1}`),
    code: `lab-${i + 1}`,
    building: `lab-${i + 1}`,
    use: 'lab',
    floors: i < 3 ? 5 : 4,
    detectorsPerFloor: [5, 7],
    doors: [
      n('正门', 'main entrance'),
      n('侧门', 'side door'),
      n('货运门', 'goods door'),
      { ...a, ...(i < 5 ? { reader: 'face' as const } : {}) },
      { ...b, ...(i < 5 ? { reader: 'face' as const } : {}) },
    ],
    intrusion: [i % 2 === 0 ? n('危化品库', 'hazardous chemicals store') : n('设备库', 'equipment store')],
    meters: i === 0 || i === 1 ? ['power', 'water', 'gas'] : ['power', 'water'],
    relays: [LIGHTING('实训室照明', 'workshop lighting'), HVAC('通风空调', 'ventilation')],
  }));
  const canteens = [1, 2, 3].map<BuildingSpec>((k) => ({
    ...n(`第${'一二三'[k - 1]}食堂`, `Canteen ${k}`),
    code: `canteen-${k}`,
    building: `canteen-${k}`,
    use: 'canteen',
    floors: k === 1 ? 3 : 2,
    detectorsPerFloor: [4, 6],
    doors: [n('正门', 'main entrance'), n('后厨', 'kitchen door'), n('库房', 'store room')],
    intrusion: [n('食材库', 'food store')],
    meters: ['power', 'water', 'gas'],
    relays: [LIGHTING('餐厅照明', 'dining hall lighting'), HVAC('排烟风机', 'kitchen extraction')],
  }));
  const dorm = (zh: string, en: string, code: string, k: number, withPost: boolean): BuildingSpec => ({
    ...n(`${zh}${k}号楼`, `${en} Block ${k}`),
    code: `${code}-${k}`,
    building: `${code}-${k}`,
    use: 'dorm',
    floors: 6,
    detectorsPerFloor: [3, 5],
    doors: [n('后门', 'back door'), n('消防通道', 'fire exit')],
    // 30 blocks x 6 lanes = the 180 dorm face check-in points of the smart-apartment projects.
    turnstiles: { count: 6, where: n('人脸宿管闸机', 'dorm check-in'), profile: 'dorm', meanIntervalS: 30 },
    ...(withPost ? { emergency: [n('鹿田广场一键报警', 'Lutian square emergency post')] } : {}),
    meters: ['power', 'water'],
    relays: [LIGHTING('走廊照明', 'corridor lighting')],
  });
  const dorms = [
    ...Array.from({ length: 12 }, (_, i) => dorm('鹿田公寓', 'Lutian Apartments', 'lutian', i + 1, i === 0)),
    ...Array.from({ length: 10 }, (_, i) => dorm('东区公寓', 'East Apartments', 'east', i + 1, false)),
    ...Array.from({ length: 8 }, (_, i) => dorm('西区公寓', 'West Apartments', 'west', i + 1, false)),
  ];
  return [
    {
      ...n('校门', 'Campus Gates'),
      code: 'entry',
      building: 'campus-gates',
      use: 'office',
      floors: 1,
      detectorsPerFloor: [0, 0],
      doors: [n('北门岗亭', 'north gate guard booth'), n('南门岗亭', 'south gate guard booth'), n('西门岗亭', 'west gate guard booth')],
      turnstiles: { count: 12, where: n('人行闸机', 'pedestrian turnstile'), meanIntervalS: 8 },
      emergency: [n('北门一键报警', 'north gate emergency post'), n('南门一键报警', 'south gate emergency post')],
      meters: ['power'],
      relays: [LIGHTING('北门照明', 'north gate lighting'), LIGHTING('南门照明', 'south gate lighting'), LIGHTING('西门照明', 'west gate lighting')],
    },
    {
      ...n('图书馆', 'Library'),
      code: 'lib',
      building: 'library',
      use: 'office',
      floors: 6,
      detectorsPerFloor: [4, 6],
      doors: [n('北门', 'north entrance'), n('南门', 'south entrance'), n('员工通道', 'staff door'), n('古籍室', 'rare books room'), n('机房', 'server room'), n('货运门', 'goods door')],
      turnstiles: { count: 4, where: n('入口闸机', 'entrance turnstile'), meanIntervalS: 10 },
      intrusion: [n('古籍室', 'rare books room'), n('机房', 'server room')],
      emergency: [n('广场一键报警', 'square emergency post')],
      meters: ['power', 'water'],
      relays: [LIGHTING('阅览室照明', 'reading room lighting'), LIGHTING('走廊照明', 'corridor lighting'), HVAC('空调一区', 'air conditioning 1'), HVAC('空调二区', 'air conditioning 2')],
    },
    ...teaching,
    ...labs,
    {
      ...n('行政楼', 'Administration Building'),
      code: 'admin',
      building: 'administration',
      use: 'office',
      floors: 6,
      detectorsPerFloor: [4, 6],
      doors: [n('正门', 'main entrance'), n('侧门', 'side door'), n('财务处', 'finance office'), n('档案室', 'archives'), n('校长办公区', "president's office"), n('机要室', 'records room')],
      intrusion: [n('财务处', 'finance office'), n('档案室', 'archives'), n('机要室', 'records room')],
      meters: ['power', 'water'],
      relays: [LIGHTING('走廊照明', 'corridor lighting'), HVAC('空调', 'air conditioning')],
    },
    {
      ...n('安保中心', 'Security Centre'),
      code: 'sec',
      building: 'security-centre',
      use: 'always',
      floors: 2,
      detectorsPerFloor: [3, 4],
      doors: [n('正门', 'main entrance'), n('110指挥中心', '110 command room'), n('装备室', 'equipment room')],
      intrusion: [n('装备室', 'equipment room')],
      meters: ['power'],
      relays: [LIGHTING('外围照明', 'perimeter lighting')],
    },
    ...canteens,
    {
      ...n('体育馆', 'Gymnasium'),
      code: 'gym',
      building: 'gymnasium',
      use: 'office',
      floors: 2,
      detectorsPerFloor: [4, 5],
      doors: [n('正门', 'main entrance'), n('东门', 'east door'), n('器材室', 'equipment room'), n('运动员通道', 'athletes door')],
      turnstiles: { count: 2, where: n('入口闸机', 'entrance turnstile'), meanIntervalS: 25 },
      intrusion: [n('器材室', 'equipment room')],
      meters: ['power', 'water'],
      relays: [LIGHTING('场馆照明一', 'arena lighting 1'), LIGHTING('场馆照明二', 'arena lighting 2'), LIGHTING('外场照明', 'outdoor field lighting'), HVAC('空调', 'air conditioning')],
    },
    {
      ...n('学生活动中心', 'Student Activity Centre'),
      code: 'sac',
      building: 'student-activity-centre',
      use: 'office',
      floors: 3,
      detectorsPerFloor: [4, 5],
      doors: [n('正门', 'main entrance'), n('侧门', 'side door'), n('安防体验馆', 'security experience hall')],
      meters: ['power', 'water'],
      relays: [LIGHTING('大厅照明', 'hall lighting'), HVAC('空调', 'air conditioning')],
    },
    ...dorms,
  ];
}

/**
 * A deterministic campus layout: gateways (one per building) and their devices with ids, edge driver
 * names, contract kinds, bilingual names, buildings and zones. The same options always give the same
 * plan; the seed only varies counts within believable ranges (detectors per floor, zones per alarm
 * system) and meter sizes.
 */
export function campusPlan(opts: { scale?: 'demo' | 'full'; seed?: number } = {}): CampusPlan {
  const scale = opts.scale ?? 'demo';
  const seed = opts.seed ?? 2021;
  const rng = createRng(seed);
  const panels = { count: 0 };
  const buildings = scale === 'full' ? fullBuildings() : demoBuildings();
  return { scale, seed, gateways: buildings.map((b) => buildGateway(b, rng, panels)) };
}

/**
 * The scenario that plays a plan's devices against the gateways' field brokers. `fieldUrls` maps each
 * gateway id to its field broker URL; `extra` adds a name, speed, timeline and the like.
 */
export function scenarioFromPlan(
  plan: CampusPlan,
  fieldUrls: Record<string, string>,
  extra: Partial<Omit<Scenario, 'gateways'>> = {},
): Scenario {
  const missing = plan.gateways.filter((g) => !fieldUrls[g.id]).map((g) => g.id);
  if (missing.length > 0) throw new Error(`scenarioFromPlan: no field broker URL for gateway(s) ${missing.join(', ')}`);
  const scenario: Scenario = {
    name: plan.scale ? `campus-${plan.scale}` : 'campus',
    ...(plan.scale ? { description: `${plan.scale} campus plan, seed ${plan.seed}` } : {}),
    ...(plan.seed !== undefined ? { seed: plan.seed } : {}),
    ...extra,
    gateways: plan.gateways.map((g) => ({
      id: g.id,
      url: fieldUrls[g.id]!,
      devices: g.devices.map((d) => ({
        id: d.id,
        type: d.driver,
        name: d.name,
        building: d.building,
        ...(d.zone ? { zone: d.zone } : {}),
        ...(d.options || d.medium ? { options: { ...d.options, ...(d.medium ? { medium: d.medium } : {}) } } : {}),
      })),
    })),
  };
  return validateScenario(scenario, scenario.name);
}
