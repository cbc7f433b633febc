import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { connectMqtt, startRawBroker } from './clients.ts';
import { stringify } from 'yaml';
import { gatewayTopic, newId, type UplinkRecord } from '@warden/contract';
import { freePort, runWarden } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { fmt, printTable, rssMiB } from './stats.ts';

const GATEWAYS = 4;
const DEVICES_PER_GATEWAY = 50;
const BATCH = 200;
const IN_FLIGHT = 4;

/**
 * Plain door traffic: each record is one card, used once, at one door of its gateway. Credentials are distinct
 * across gateways and devices (the gateway and sequence number are in them), so no alarm rule fires
 * (anti-passback needs one credential twice) and the run measures ingest, not alarm raising.
 */
function batchFor(gw: string, seq0: number): { payload: Buffer; last: number } {
  const records: UplinkRecord[] = [];
  const now = Date.now();
  for (let i = 0; i < BATCH; i++) {
    const seq = seq0 + i;
    const device = `${gw}-door-${seq % DEVICES_PER_GATEWAY}`;
    records.push({ id: newId(now), seq, device, ts: now, kind: 'event', type: 'access.granted', data: { method: 'card', credential: `${gw}-card-${seq}`, direction: 'in' } });
  }
  return { payload: Buffer.from(JSON.stringify({ v: 1, gw, records })), last: seq0 + BATCH - 1 };
}


/** Each gateway keeps IN_FLIGHT batches outstanding and sends the next one when the hub acknowledges. */
async function driveHub(mqttUrl: string, passwords: Record<string, string>, total: number): Promise<number> {
  const perGw = Math.ceil(total / GATEWAYS / BATCH) * BATCH;
  const clients = await Promise.all(
    Object.entries(passwords).map(([gw, password]) => connectMqtt(mqttUrl, { clientId: `warden-edge-${gw}`, username: gw, password, clean: true })),
  );
  // Inventory first, as a real gateway does, so the hub knows the devices.
  await Promise.all(
    clients.map((c, gi) => {
      const gw = Object.keys(passwords)[gi]!;
      const devices = Array.from({ length: DEVICES_PER_GATEWAY }, (_, i) => ({ id: `${gw}-door-${i}`, kind: 'door' as const, driver: 'door-controller' }));
      return c.publishAsync(gatewayTopic(gw, 'inventory'), JSON.stringify({ v: 1, gw, ts: Date.now(), devices }), { qos: 1, retain: true });
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  await Promise.all(
    clients.map(
      (c, gi) =>
        new Promise<void>((resolve) => {
          const gw = Object.keys(passwords)[gi]!;
          let nextSeq = 1;
          let acked = 0;
          const send = () => {
            if (nextSeq > perGw) return;
            const b = batchFor(gw, nextSeq);
            nextSeq = b.last + 1;
            c.publish(gatewayTopic(gw, 'up'), b.payload, { qos: 1 });
          };
          c.on('message', (_t, msg) => {
            acked = (JSON.parse(msg.toString()) as { upTo: number }).upTo;
            if (acked >= perGw) return resolve();
            while (nextSeq <= perGw && nextSeq - 1 - acked < IN_FLIGHT * BATCH) send();
          });
          c.subscribe(gatewayTopic(gw, 'ack'), { qos: 1 }, () => {
            for (let i = 0; i < IN_FLIGHT; i++) send();
          });
        }),
    ),
  );
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.endAsync()));
  return (perGw * GATEWAYS) / secs;
}

/** Baseline: the same batches through a bare aedes to one subscriber (no auth, validation, storage or acks). */
async function driveRaw(total: number): Promise<number> {
  const { url, child } = await startRawBroker();
  const perGw = Math.ceil(total / GATEWAYS / BATCH) * BATCH;
  const sub = await connectMqtt(url, { clientId: 'sub' });
  await sub.subscribeAsync('raw/+/up', { qos: 1 });
  const pubs = await Promise.all(Array.from({ length: GATEWAYS }, (_, i) => connectMqtt(url, { clientId: `gw-${i}` })));
  let received = 0;
  const done = new Promise<void>((resolve) => sub.on('message', () => { received += BATCH; if (received >= perGw * GATEWAYS) resolve(); }));
  const t0 = performance.now();
  await Promise.all(
    pubs.map(async (c, gi) => {
      // Same window as the hub run: IN_FLIGHT QoS 1 publishes outstanding per gateway.
      const pending = new Set<Promise<unknown>>();
      for (let seq = 1; seq <= perGw; seq += BATCH) {
        const p = c.publishAsync(`raw/gw-${gi}/up`, batchFor(`gw-${gi}`, seq).payload, { qos: 1 });
        pending.add(p);
        void p.then(() => pending.delete(p));
        if (pending.size >= IN_FLIGHT) await Promise.race(pending);
      }
      await Promise.all(pending);
    }),
  );
  await done;
  const secs = (performance.now() - t0) / 1000;
  await Promise.all([...pubs, sub].map((c) => c.endAsync()));
  child.kill('SIGTERM');
  return (perGw * GATEWAYS) / secs;
}

/** Alarms the run raised or folded into open ones, from the hub's Prometheus metrics (readable from its own host). */
async function alarmsDuringRun(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/api/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /^warden_hub_alarms_(?:raised|repeated)_total(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+\d+)?)$/.exec(line);
    if (m) n += Number(m[1]);
  }
  return n;
}

export async function benchIngest(total = 200_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-ingest-'));
  try {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const passwords: Record<string, string> = {};
    for (let i = 0; i < GATEWAYS; i++) passwords[`gw-bench-${i}`] = newId();
    const cfg = join(dir, 'hub.yaml');
    writeFileSync(
      cfg,
      stringify({
        http: { host: '127.0.0.1', port: httpPort },
        mqtt: { host: '127.0.0.1', port: mqttPort },
        dataDir: join(dir, 'hub'),
        admin: { password: 'bench-admin-password' },
        gateways: Object.entries(passwords).map(([id, password]) => ({ id, password })),
      }),
    );
    const hub = runWarden(['hub', '--config', cfg], { LOG_LEVEL: 'warn' });
    await waitForHttp(`http://127.0.0.1:${httpPort}/api/health`);
    const wardenRate = await driveHub(`mqtt://127.0.0.1:${mqttPort}`, passwords, total);
    const rss = rssMiB(hub.child.pid!);
    const alarms = await alarmsDuringRun(`http://127.0.0.1:${httpPort}`);
    await hub.stop();
    const rawRate = await driveRaw(total);
    printTable(`hub ingest: ${fmt(total)} event records, ${GATEWAYS} gateways, batches of ${BATCH}, ${IN_FLIGHT} in flight`, [
      { metric: 'records/s (validated, deduped, stored, acked)', warden: fmt(wardenRate), baseline: fmt(rawRate) + ' (raw aedes fan-out)', ratio: (wardenRate / rawRate).toFixed(2) },
      { metric: 'hub RSS after run (MiB)', warden: fmt(rss), baseline: '', ratio: '' },
      { metric: 'alarms raised + folded during the run (plain traffic: 0)', warden: fmt(alarms), baseline: '', ratio: '' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
