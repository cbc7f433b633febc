import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CampusPlan } from '@warden/simulators';
import { freePort } from '../src/testing.ts';
import { writeSystemLayout, type SystemLayout } from '../src/layout.ts';

export const ADMIN_PASSWORD = 'e2e-admin-password';

export interface E2eSite {
  dir: string;
  layout: SystemLayout;
  httpPort: number;
  mqttPort: number;
  fieldPort: number;
  base: string;
  /** A scenario file with the plan's devices on the gateway's field broker and the given timeline. */
  scenario(timeline: Array<{ at: string; device: string; do: string; arg?: unknown }>, deviceOptions?: Record<string, unknown>): string;
  remove(): void;
}

/** One gateway with the given door controllers, laid out as `npm start` lays out a site. */
export async function e2eSite(gateway: string, doors: string[]): Promise<E2eSite> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-e2e-'));
  const [httpPort, mqttPort, fieldPort] = [await freePort(), await freePort(), await freePort()];
  const plan: CampusPlan = {
    gateways: [
      {
        id: gateway,
        name: 'E2E',
        building: 'e2e',
        devices: doors.map((id) => ({ id, driver: 'door-controller', kind: 'door', name: id, building: 'e2e' })),
      },
    ],
  } as CampusPlan;
  const layout = writeSystemLayout(plan, { dataDir: dir, httpPort, mqttPort, fieldPortBase: fieldPort, adminPassword: ADMIN_PASSWORD });
  return {
    dir,
    layout,
    httpPort,
    mqttPort,
    fieldPort,
    base: `http://127.0.0.1:${httpPort}`,
    scenario(timeline, deviceOptions = {}) {
      const file = join(dir, `scenario-${Date.now()}.yaml`);
      writeFileSync(
        file,
        stringify({
          name: 'e2e',
          gateways: [
            {
              id: gateway,
              url: `mqtt://127.0.0.1:${fieldPort}`,
              // The devices log in to the field broker with the secrets the layout generated (field.requireAuth).
              secrets: Object.fromEntries(doors.map((id) => [id, layout.deviceSecrets[id]!])),
              devices: doors.map((id) => ({ id, type: 'door-controller', options: deviceOptions })),
            },
          ],
          timeline,
        }),
      );
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  if (!res.ok) throw new Error(`login failed: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export async function api<T>(base: string, token: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
