import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FacePipeline, decodeImage, faceWindowJpeg, type FaceResult } from '@warden/models';
import { packageDir } from '@warden/models/paths.ts';
import type { CampusPlan } from '@warden/simulators';

/**
 * The demo campus's people with faces: three persons enrolled on the hub from faces in a group photo shipped
 * in the pinned `@vladmandic/face-api` package (demo/sample6.jpg), one of them on the watch-list, and a fourth
 * face from the same photo that nobody enrolled (a stranger). The face terminal sends other framings of the
 * same faces as captures, so the gateway grants, refuses a watch-listed person and denies a stranger.
 */
export interface DemoPerson {
  name: string;
  roles: string[];
  credential: string;
  /** Index of the face in the photo, left to right among the faces that pass the quality gate. */
  face: number;
  watchlist?: string;
}

export const DEMO_PHOTO = { pkg: '@vladmandic/face-api', file: 'demo/sample6.jpg' };
export const DEMO_PERSONS: DemoPerson[] = [
  { name: '王晓明 · Wang Xiaoming', roles: ['staff'], credential: 'FACE-DEMO-0001', face: 0 },
  { name: '李静 · Li Jing', roles: ['student'], credential: 'FACE-DEMO-0002', face: 1 },
  { name: '赵强 · Zhao Qiang', roles: ['visitor'], credential: 'FACE-DEMO-0003', face: 2, watchlist: '演示布控 · demo watch-list entry' },
];
/** The face nobody enrolled. */
export const STRANGER_FACE = 3;


export interface DemoFaceFiles {
  /** Enrolment photo per person (DEMO_PERSONS order). */
  enrol: string[];
  /** Folder the simulated face terminal sends from, in name order. */
  terminal: string;
}

/**
 * Cuts the demo faces out of the package photo once per data dir (the face pipeline finds them) and keeps
 * them under `<dataDir>/faces/`: one enrolment photo per person and, for the terminal, another framing of
 * each (wider, shifted) plus the stranger. Named so the terminal's round robin mixes the outcomes.
 */
export async function prepareDemoFaces(dataDir: string): Promise<DemoFaceFiles> {
  const root = join(dataDir, 'faces');
  const enrolDir = join(root, 'enrol');
  const terminal = join(root, 'terminal');
  const enrol = DEMO_PERSONS.map((_, i) => join(enrolDir, `person-${i + 1}.jpg`));
  const done = enrol.every((f) => existsSync(f)) && existsSync(terminal) && readdirSync(terminal).length >= DEMO_PERSONS.length + 1;
  if (done) return { enrol, terminal };

  mkdirSync(enrolDir, { recursive: true });
  mkdirSync(terminal, { recursive: true });
  const img = decodeImage(readFileSync(join(packageDir(DEMO_PHOTO.pkg), DEMO_PHOTO.file)));
  const pipeline = await FacePipeline.create({ liveness: false });
  let faces: FaceResult[];
  try {
    faces = (await pipeline.analyse(img)).filter((f) => f.quality.ok).sort((a, b) => a.box.x - b.box.x);
  } finally {
    await pipeline.close();
  }
  const needed = Math.max(STRANGER_FACE, ...DEMO_PERSONS.map((p) => p.face)) + 1;
  if (faces.length < needed) throw new Error(`${DEMO_PHOTO.pkg}/${DEMO_PHOTO.file}: ${faces.length} faces pass the quality gate, the demo needs ${needed}`);
  DEMO_PERSONS.forEach((p, i) => {
    const f = faces[p.face]!;
    writeFileSync(enrol[i]!, faceWindowJpeg(img, f.box, f.box.width * 1.8));
  });
  // Terminal order (round robin by name): a grant, the stranger, the watch-listed person, another grant.
  const probe = (f: FaceResult) => faceWindowJpeg(img, f.box, f.box.width * 2.3, { dx: f.box.width * 0.15 });
  const byFace = (k: number) => faces[k]!;
  writeFileSync(join(terminal, '1-known.jpg'), probe(byFace(DEMO_PERSONS[0]!.face)));
  writeFileSync(join(terminal, '2-stranger.jpg'), probe(byFace(STRANGER_FACE)));
  writeFileSync(join(terminal, '3-watchlist.jpg'), probe(byFace(DEMO_PERSONS[2]!.face)));
  writeFileSync(join(terminal, '4-known.jpg'), probe(byFace(DEMO_PERSONS[1]!.face)));
  return { enrol, terminal };
}

/** Gateways with face terminals, and the buildings whose people their galleries need. */
export function faceGateways(plan: CampusPlan): Array<{ gateway: string; building: string }> {
  return plan.gateways.filter((g) => g.devices.some((d) => d.driver === 'face-terminal')).map((g) => ({ gateway: g.id, building: g.building }));
}

interface Person {
  id: string;
  credentials: string[];
  templates: number;
  watchlist: boolean;
}

/**
 * Enrols the demo persons through the hub's REST API as an administrator would (person, photo with consent,
 * watch-list), and gives each face gateway the people of its building plus the watch-list. Idempotent: on a
 * restart, persons already enrolled are left as they are.
 */
export async function enrolDemoFaces(o: { url: string; adminPassword: string; plan: CampusPlan; files: DemoFaceFiles; log?: (line: string) => void }): Promise<{ enrolled: number }> {
  const gateways = faceGateways(o.plan);
  if (gateways.length === 0) return { enrolled: 0 };
  const login = await fetch(`${o.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: o.adminPassword }) });
  if (!login.ok) throw new Error(`demo faces: admin login refused (HTTP ${login.status})`);
  const { token } = (await login.json()) as { token: string };
  const call = async <T>(path: string, method = 'GET', body?: unknown): Promise<T> => {
    const res = await fetch(`${o.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`demo faces: ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : null) as T;
  };
  const buildings = [...new Set(gateways.map((g) => g.building))];
  for (const g of gateways) await call(`/api/faces/gateways/${g.gateway}`, 'PUT', { dorms: [], buildings: [g.building], watchlist: true });

  const { persons } = await call<{ persons: Person[] }>('/api/faces/persons');
  let enrolled = 0;
  for (const [i, p] of DEMO_PERSONS.entries()) {
    let person = persons.find((x) => x.credentials.includes(p.credential));
    person ??= await call<Person>('/api/faces/persons', 'POST', { name: p.name, roles: p.roles, buildings, credentials: [p.credential] });
    if (person.templates === 0) {
      const photo = readFileSync(o.files.enrol[i]!).toString('base64');
      person = await call<Person>(`/api/faces/persons/${person.id}/enrol`, 'POST', { photos: [photo], consent: { givenBy: p.name, scope: 'demo campus: lab access by face' } });
      enrolled++;
    }
    if (p.watchlist && !person.watchlist) await call(`/api/faces/persons/${person.id}/watchlist`, 'PUT', { on: true, note: p.watchlist });
  }
  o.log?.(`demo faces: ${DEMO_PERSONS.length} persons on ${gateways.map((g) => g.gateway).join(', ')} (${enrolled} enrolled now, 1 on the watch-list)`);
  return { enrolled };
}
