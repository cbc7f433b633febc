import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayTopic } from '@warden/contract';
import type { MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { waitForHttp } from '../src/supervisor.ts';
import { freePort, runWarden, type WardenProcess } from '../src/testing.ts';
import { connectMqtt } from './clients.ts';

const ADMIN_PASSWORD = 'bench-admin-password';

export interface BenchHub {
  dir: string;
  base: string;
  mqttUrl: string;
  hub: WardenProcess;
  /** Waits for the hub's health (up to 180 s on a loaded machine) and logs in as admin: the token. */
  ready(): Promise<string>;
  /** A gateway's hub link as a bench client: its assigned client id, its ack topic subscribed. */
  connectGateway(id: string): Promise<MqttClient>;
  /** Stops the hub and removes its folder. */
  stop(): Promise<void>;
}

/**
 * A hub as its own process for a benchmark, on free loopback ports: the given gateways (one password) and the devices
 * registered in its registry, no alarm linkage (only the rule path is measured), no console files.
 */
export async function startBenchHub(name: string, gateways: string[], registry: Array<Record<string, string>>, password: string): Promise<BenchHub> {
  const dir = mkdtempSync(join(tmpdir(), `warden-bench-${name}-`));
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'hub.yaml'),
    stringify({
      http: { host: '127.0.0.1', port: httpPort },
      mqtt: { host: '127.0.0.1', port: mqttPort },
      dataDir: join(dir, 'hub'),
      admin: { password: ADMIN_PASSWORD },
      dashboard: { dir: join(dir, 'no-console') },
      gateways: gateways.map((id) => ({ id, password })),
      devices: { registry },
      alarms: { linkage: [] },
    }),
  );
  const hub = runWarden(['hub', '--config', join(dir, 'hub.yaml')], { LOG_LEVEL: 'warn' });
  const base = `http://127.0.0.1:${httpPort}`;
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  return {
    dir,
    base,
    mqttUrl,
    hub,
    async ready() {
      await waitForHttp(`${base}/api/health`, 180_000).catch((err: unknown) => {
        throw new Error(`hub did not start: ${hub.lines.slice(-10).join('\n')}`, { cause: err });
      });
      const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
      return ((await res.json()) as { token: string }).token;
    },
    async connectGateway(id) {
      const c = await connectMqtt(mqttUrl, { clientId: `warden-edge-${id}`, username: id, password });
      await c.subscribeAsync(gatewayTopic(id, 'ack'), { qos: 1 });
      return c;
    },
    async stop() {
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Events the hub has stored so far (its own counter). */
export async function storedEvents(base: string): Promise<number> {
  const text = await (await fetch(`${base}/api/metrics`)).text();
  const m = /^warden_hub_records_stored_total\{kind="event"\} (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}
