/**
 * Quick ingest throughput check: the hub as its own process (as deployed), 4 gateways each keeping 4 batches of 200
 * records in flight, counting records per second from the first send to the last ack.
 *   node --import tsx hub/scripts/ingest-throughput.ts [records=100000] [telemetryShare=0.5]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { gatewayTopic, newId } from '@warden/contract';

const TOTAL = Number(process.argv[2] ?? 100_000);
const TELEMETRY_SHARE = Number(process.argv[3] ?? 0.5);
const GATEWAYS = 4;
const BATCH = 200;
const IN_FLIGHT = 4;
const DEVICES = 50;

const dir = mkdtempSync(join(tmpdir(), 'warden-hub-bench-'));
const cfg = join(dir, 'hub.yaml');
const gateways = Array.from({ length: GATEWAYS }, (_, i) => ({ id: `gw-bench-${i}`, password: `bench-password-${i}` }));
writeFileSync(cfg, stringify({ http: { port: 0 }, mqtt: { port: 0 }, dataDir: join(dir, 'hub'), admin: { password: 'bench-admin' }, gateways }));
const hub = spawn(process.execPath, [fileURLToPath(new URL('../../bin/warden.js', import.meta.url)), 'hub', '--config', cfg], {
  env: { ...process.env, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const mqttUrl = await new Promise<string>((resolve) =>
  createInterface({ input: hub.stdout! }).on('line', (l) => {
    const m = /MQTT for gateways: (mqtt:\/\/\S+)/.exec(l);
    if (m) resolve(m[1]!);
  }),
);

const perGw = Math.ceil(TOTAL / GATEWAYS / BATCH) * BATCH;
function batch(gw: string, seq0: number): Buffer {
  const now = Date.now();
  const records = [];
  for (let i = 0; i < BATCH; i++) {
    const seq = seq0 + i;
    const base = { id: newId(now), seq, ts: now };
    records.push(
      (seq * 7919) % 100 < TELEMETRY_SHARE * 100
        ? { ...base, device: `${gw}-meter-${seq % DEVICES}`, kind: 'telemetry', metrics: { energy_kwh: seq / 10, power_kw: seq % 17 } }
        : { ...base, device: `${gw}-door-${seq % DEVICES}`, kind: 'event', type: 'access.granted', data: { method: 'card', credential: String(seq), direction: 'in' } },
    );
  }
  return Buffer.from(JSON.stringify({ v: 1, gw, records }));
}

const clients = await Promise.all(gateways.map((g) => mqtt.connectAsync(mqttUrl, { clientId: g.id, username: g.id, password: g.password, reconnectPeriod: 0 })));
await Promise.all(
  clients.map((c, i) => {
    const gw = gateways[i]!.id;
    const devices = Array.from({ length: DEVICES }, (_, d) => [
      { id: `${gw}-door-${d}`, kind: 'door', driver: 'bench' },
      { id: `${gw}-meter-${d}`, kind: 'meter', driver: 'bench' },
    ]).flat();
    return c.publishAsync(gatewayTopic(gw, 'inventory'), JSON.stringify({ v: 1, gw, ts: Date.now(), devices }), { qos: 1, retain: true });
  }),
);
await new Promise((r) => setTimeout(r, 300));
const t0 = performance.now();
await Promise.all(
  clients.map(
    (c, i) =>
      new Promise<void>((resolve) => {
        const gw = gateways[i]!.id;
        let next = 1;
        const send = () => {
          if (next > perGw) return;
          c.publish(gatewayTopic(gw, 'up'), batch(gw, next), { qos: 1 });
          next += BATCH;
        };
        c.on('message', (_t, msg) => {
          const acked = (JSON.parse(msg.toString()) as { upTo: number }).upTo;
          if (acked >= perGw) return resolve();
          while (next <= perGw && next - 1 - acked < IN_FLIGHT * BATCH) send();
        });
        c.subscribe(gatewayTopic(gw, 'ack'), { qos: 1 }, () => {
          for (let k = 0; k < IN_FLIGHT; k++) send();
        });
      }),
  ),
);
const secs = (performance.now() - t0) / 1000;
console.log(`${perGw * GATEWAYS} records (${Math.round(TELEMETRY_SHARE * 100)}% telemetry) in ${secs.toFixed(2)} s: ${Math.round((perGw * GATEWAYS) / secs)} records/s stored and acked`);
await Promise.all(clients.map((c) => c.endAsync()));
hub.kill('SIGTERM');
await new Promise((r) => hub.once('exit', r));
rmSync(dir, { recursive: true, force: true });
