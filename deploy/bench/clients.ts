import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';

/** An mqtt.js client with TCP_NODELAY set (mqtt.js does not; measured ~11 ms off p50). */
export function connectMqtt(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, ...opts });
    c.once('connect', () => {
      (c.stream as unknown as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
      resolve(c);
    });
    c.once('error', reject);
  });
}

/** The baseline broker (raw-broker.ts) as its own process; resolves with its URL once it listens. */
export async function startRawBroker(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./raw-broker.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`baseline broker exited (${code})`)));
    child.stdout!.on('data', (b: Buffer) => {
      const m = /PORT (\d+)/.exec(b.toString());
      if (m) resolve(Number(m[1]));
    });
  });
  return { url: `mqtt://127.0.0.1:${port}`, child };
}
