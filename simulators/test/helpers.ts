import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';

export const silent = pino({ level: 'silent' });

export interface Msg {
  topic: string;
  text: string;
  json: Record<string, unknown>;
  retain: boolean;
}

/** A real aedes broker on 127.0.0.1 with an ephemeral port, standing in for a gateway's field broker. */
export interface TestBroker {
  url: string;
  broker: Aedes;
  close(): Promise<void>;
}

export async function startBroker(opts: AedesOptions = {}): Promise<TestBroker> {
  const broker = await Aedes.createBroker(opts);
  const server: Server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => (sockets.add(s), s.once('close', () => sockets.delete(s))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The gateway side in tests: a client that records everything it sees and can send commands. */
export interface Recorder {
  client: MqttClient;
  messages: Msg[];
  /** Resolves with the first recorded message (past or future) matching, or fails after 30 s (only a failure waits that long: CI's two cores are shared with other test files). */
  waitFor(pred: (m: Msg) => boolean, what?: string, timeoutMs?: number): Promise<Msg>;
  /** Resolves once `n` matching messages have been recorded. */
  waitForCount(pred: (m: Msg) => boolean, n: number, what?: string): Promise<Msg[]>;
  on(topic: string): Msg[];
  send(topic: string, payload: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function record(url: string, topics: string[] = ['#']): Promise<Recorder> {
  const client = await connectAsync(url, { clientId: `gateway-test-${Math.random().toString(36).slice(2)}`, reconnectPeriod: 0 });
  const messages: Msg[] = [];
  const waiters: Array<() => void> = [];
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString('utf8');
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* availability payloads are plain text */
    }
    messages.push({ topic, text, json, retain: packet.retain });
    for (const w of [...waiters]) w();
  });
  await client.subscribeAsync(topics, { qos: 1 });
  const waitForCount = (pred: (m: Msg) => boolean, n: number, what = 'message', timeoutMs = 30_000): Promise<Msg[]> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hits = messages.filter(pred);
        if (hits.length < n) return false;
        waiters.splice(waiters.indexOf(check), 1);
        clearTimeout(timer);
        resolve(hits);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(new Error(`timed out waiting for ${n} x ${what}; saw:\n${messages.map((m) => `${m.topic} ${m.text}`).slice(-25).join('\n')}`));
      }, timeoutMs);
      waiters.push(check);
      check();
    });
  return {
    client,
    messages,
    waitFor: async (pred, what, timeoutMs) => (await waitForCount(pred, 1, what, timeoutMs))[0]!,
    waitForCount: (pred, n, what) => waitForCount(pred, n, what),
    on: (topic) => messages.filter((m) => m.topic === topic),
    send: async (topic, payload) => void (await client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 })),
    close: () => client.endAsync(),
  };
}

/** Events of a door controller, in arrival order. */
export const doorEvents = (r: Recorder, id: string): string[] => r.on(`acs/${id}/event`).map((m) => m.json.event as string);
