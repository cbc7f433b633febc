import { connect, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { RateLimitedLog, parseJson } from '@warden/contract';
import type { TObject, Static } from 'typebox';
import { COMMON_ACTIONS, type CommandChannel, type DeviceContext, type DeviceModel, type DeviceSpec, type DeviceType, type Timer } from './device.ts';
import { badCommandsTotal, commandsTotal, publishErrorsTotal, publishedTotal } from './metrics.ts';
import { createRng, type Rng } from './rng.ts';
import type { SimClock } from './sim-clock.ts';

/** A running simulated device. */
export interface SimDevice {
  readonly id: string;
  /** The device type, which is also the edge driver name. */
  readonly type: string;
  /** Runs a triggerable action (the type's catalogue plus dropOff and comeBack); rejects on an unknown action or bad argument. */
  act(action: string, arg?: unknown): Promise<void>;
  state(): Record<string, unknown>;
  /** Announces offline (retained), disconnects and cancels every timer. */
  stop(): Promise<void>;
  /** Resolves at the first connection; rejects when the broker refuses the client (credentials, ACL). */
  ready(): Promise<void>;
  readonly connected: boolean;
}

export interface RuntimeOptions {
  url: string;
  username?: string;
  password?: string;
  clock: SimClock;
  logger: Logger;
  seed?: number;
}

/**
 * Connection trouble is logged per broker URL, shared by all devices on one logger: a campus of devices
 * behind one dead gateway gives one line every 10 s, not one per device.
 */
const connectLogs = new WeakMap<Logger, RateLimitedLog>();

/** Events a device raises while dropped off; a real controller's buffer is finite too. */
const OFFLINE_BUFFER = 1000;
/** setTimeout's ceiling; longer delays would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

interface Outgoing {
  topic: string;
  payload: string;
  qos: 0 | 1;
  retain: boolean;
}

/**
 * The part every simulated device shares: the MQTT client (clientId = device id, retained last will on
 * `avail/{id}`), availability, command topics with ref'd replies, simulated-time timers, dropOff and
 * comeBack. The device model only decides what to say and when.
 */
export class DeviceRuntime<S extends TObject = TObject> implements SimDevice {
  readonly id: string;
  readonly type: string;
  private client: MqttClient | undefined;
  private model: DeviceModel | undefined;
  private isConnected = false;
  private dropped = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Publishes handed to the client and not yet written (drain()). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly buffer: Outgoing[] = [];
  /** Publishes issued during an act(), awaited so act() resolves once its messages are handed over. */
  private collecting: Array<Promise<unknown>> | null = null;
  private readyPromise: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly badInput: RateLimitedLog;
  private readonly rng: Rng;

  constructor(
    private readonly def: DeviceType<S>,
    private readonly spec: DeviceSpec,
    private readonly options: Static<S>,
    private readonly o: RuntimeOptions,
  ) {
    this.id = spec.id;
    this.type = def.type;
    this.log = o.logger.child({ device: spec.id, type: def.type });
    this.badInput = new RateLimitedLog(this.log);
    this.rng = createRng(`${o.seed ?? 0}:${spec.id}`);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Builds the model, starts its behaviour and connects; resolves at the first connection. */
  start(): Promise<void> {
    if (this.readyPromise) return this.readyPromise;
    this.model = this.def.create(this.context(), this.options, this.spec);
    this.readyPromise = this.connect();
    // Callers that do not await ready() must not see an unhandled rejection; the error is logged here.
    this.readyPromise.catch((err: Error) => this.log.error({ err: err.message }, 'device could not connect'));
    if ((this.options as { behave?: boolean }).behave !== false) this.model.behave?.();
    return this.readyPromise;
  }

  ready(): Promise<void> {
    return this.readyPromise ?? Promise.reject(new Error(`${this.id} was not started`));
  }

  state(): Record<string, unknown> {
    return { ...(this.model?.state() ?? {}), connected: this.isConnected, dropped: this.dropped };
  }

  async act(action: string, arg?: unknown): Promise<void> {
    if (this.stopped) throw new Error(`${this.id} is stopped`);
    if (action === 'dropOff') return this.dropOff();
    if (action === 'comeBack') return this.comeBack();
    const fn = Object.hasOwn(this.def.actions, action) ? this.model?.actions[action] : undefined;
    if (!fn) {
      const known = [...Object.keys(this.def.actions), ...Object.keys(COMMON_ACTIONS)].join(', ');
      throw new Error(`${this.id} (${this.type}) has no action "${action}"; known: ${known}`);
    }
    // Model actions publish synchronously; collect those publishes for this call only, so concurrent
    // act() calls (timeline and stdin) each wait for their own messages.
    const mine: Array<Promise<unknown>> = [];
    const outer = this.collecting;
    this.collecting = mine;
    let result: void | Promise<void>;
    try {
      result = fn(arg);
    } finally {
      this.collecting = outer;
    }
    await result;
    await Promise.all(mine);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.isConnected) {
      // A device switched off on purpose says so; otherwise the retained 'online' would outlive it.
      await withTimeout(client.publishAsync(`avail/${this.id}`, 'offline', { qos: 1, retain: true }), 2000).catch(() => undefined);
    }
    this.isConnected = false;
    await withTimeout(client.endAsync(!client.connected), 2000).catch(() => client.end(true));
  }

  private dropOff(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.isConnected = false;
    const client = this.client;
    this.client = undefined;
    // end(true) destroys the socket without a DISCONNECT packet: to the broker this is a lost device [MQTT-3.1.2-8].
    client?.end(true);
    this.log.info('dropped off');
  }

  private async comeBack(): Promise<void> {
    if (!this.dropped) return;
    this.dropped = false;
    await this.connect();
  }

  private connect(): Promise<void> {
    const id = this.id;
    const username = this.o.username ?? (this.o.password !== undefined ? id : undefined);
    const client = connect(this.o.url, {
      clientId: id,
      ...(username !== undefined ? { username } : {}),
      ...(this.o.password !== undefined ? { password: this.o.password } : {}),
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // Subscriptions are made again on every connect (see onConnect); a second automatic pass would only duplicate them.
      resubscribe: false,
      will: { topic: `avail/${id}`, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    return new Promise<void>((resolve, reject) => {
      client.on('connect', () => {
        if (this.client !== client) return;
        this.onConnect(client, resolve);
      });
      client.on('error', (err: Error & { code?: unknown }) => {
        if (typeof err.code === 'number' && err.code > 0) {
          // A CONNACK refusal (bad credentials, not authorised): retrying will not help, so fail loudly.
          client.end(true);
          if (this.client === client) this.client = undefined;
          reject(new Error(`${id}: the field broker at ${this.o.url} refused the connection: ${err.message}`));
          return;
        }
        let shared = connectLogs.get(this.o.logger);
        if (!shared) connectLogs.set(this.o.logger, (shared = new RateLimitedLog(this.o.logger)));
        shared.warn(`connect_error ${this.o.url}`, { url: this.o.url, device: id, err: err.message }, 'cannot reach the field broker; retrying');
      });
      client.on('close', () => {
        if (this.client === client) this.isConnected = false;
      });
      client.on('message', (topic, payload) => this.onMessage(client, topic, payload));
    });
  }

  /** `announced` runs once the device is subscribed and has said it is online: that is when it is ready. */
  private onConnect(client: MqttClient, announced: () => void): void {
    const commandTopics = (this.model?.commands ?? []).map((c) => this.topic(c.suffix));
    const announce = (): void => {
      if (this.client !== client) return;
      this.isConnected = true;
      this.send({ topic: `avail/${this.id}`, payload: 'online', qos: 1, retain: true });
      this.log.debug('online');
      this.model?.onConnect?.();
      for (const m of this.buffer.splice(0)) this.send(m);
      announced();
    };
    if (commandTopics.length === 0) return announce();
    // Listen for commands before saying online, so a command sent on the strength of 'online' is heard.
    client.subscribe(commandTopics, { qos: 1 }, (err) => {
      if (err) this.log.error({ err: err.message, topics: commandTopics }, 'command subscription refused; commands will not reach this device');
      announce();
    });
  }

  private onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    const channel = (this.model?.commands ?? []).find((c) => this.topic(c.suffix) === topic);
    if (!channel) return;
    const parsed = parseJson(payload);
    if (!parsed.ok) return this.refuse('malformed_json', topic, parsed.detail);
    const msg = parsed.value;
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return this.refuse('schema_invalid', topic, 'command is not a JSON object');
    const ref = (msg as { ref?: unknown }).ref;
    if (typeof ref !== 'string' || ref.length === 0) return this.refuse('schema_invalid', topic, 'command has no ref, so it cannot be answered');
    this.answer(client, channel, topic, ref, msg as Record<string, unknown>);
  }

  private answer(client: MqttClient, channel: CommandChannel, topic: string, ref: string, msg: Record<string, unknown>): void {
    let outcome;
    try {
      outcome = channel.handle(msg);
    } catch (err) {
      outcome = { ok: false as const, error: (err as Error).message };
    }
    commandsTotal.inc({ type: this.type, result: outcome.ok ? 'ok' : 'error' });
    if (!outcome.ok) this.log.info({ topic, ref, error: outcome.error }, 'command refused');
    if (this.client === client) this.publish(`${topic}/reply`, channel.reply(ref, outcome));
  }

  private refuse(reason: 'malformed_json' | 'schema_invalid', topic: string, detail: string): void {
    badCommandsTotal.inc({ type: this.type, reason });
    this.badInput.warn(reason, { topic, detail }, 'command refused');
  }

  private topic(...suffix: string[]): string {
    return [this.def.prefix, this.id, ...suffix].join('/');
  }

  private publish(topic: string, payload: unknown, opts: { qos?: 0 | 1; retain?: boolean } = {}): void {
    if (this.stopped) return;
    const m: Outgoing = {
      topic,
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      qos: opts.qos ?? 1,
      retain: opts.retain ?? false,
    };
    if (this.dropped || !this.client) {
      if (this.buffer.length >= OFFLINE_BUFFER) {
        this.buffer.shift();
        publishErrorsTotal.inc({ type: this.type, reason: 'buffer_full' });
        this.badInput.warn('buffer_full', { size: OFFLINE_BUFFER }, 'offline buffer full; oldest event discarded');
      }
      this.buffer.push(m);
      return;
    }
    this.send(m);
  }

  private send(m: Outgoing): void {
    const client = this.client;
    if (!client) return void this.buffer.push(m);
    const p = client.publishAsync(m.topic, m.payload, { qos: m.qos, retain: m.retain }).then(
      () => publishedTotal.inc({ type: this.type }),
      (err: Error) => {
        publishErrorsTotal.inc({ type: this.type, reason: 'publish_failed' });
        this.badInput.warn('publish_failed', { topic: m.topic, err: err.message }, 'publish failed');
      },
    );
    this.collecting?.push(p);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private timer(seconds: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.stopped) return;
      try {
        fn();
      } catch (err) {
        // A failing behaviour must not take the other devices of the process down.
        this.log.error({ err: (err as Error).message }, 'device behaviour failed');
      }
    }, Math.min(this.o.clock.realMs(seconds), MAX_TIMER_MS));
    this.timers.add(t);
    return t;
  }

  private context(): DeviceContext {
    const self = this;
    const cancel = (box: { t?: NodeJS.Timeout; done?: boolean }): Timer => ({
      cancel() {
        box.done = true;
        if (box.t) {
          clearTimeout(box.t);
          self.timers.delete(box.t);
        }
      },
    });
    return {
      id: this.id,
      rng: this.rng,
      clock: this.o.clock,
      log: this.log,
      get online() {
        return self.isConnected && !self.dropped;
      },
      topic: (...suffix) => this.topic(...suffix),
      publish: (topic, payload, opts) => this.publish(topic, payload, opts),
      drain: async () => {
        await Promise.all([...this.inFlight]);
      },
      dropOff: () => {
        if (!this.stopped) this.dropOff();
      },
      comeBack: async () => {
        if (!this.stopped) await this.comeBack();
      },
      after: (seconds, fn) => {
        const box: { t?: NodeJS.Timeout; done?: boolean } = {};
        box.t = this.timer(seconds, fn);
        return cancel(box);
      },
      every: (seconds, fn) => {
        const box: { t?: NodeJS.Timeout; done?: boolean } = {};
        const tick = (): void => {
          if (box.done) return;
          box.t = this.timer(seconds, tick);
          if (this.isConnected && !this.dropped) fn();
        };
        box.t = this.timer(seconds, tick);
        return cancel(box);
      },
      poisson: (meanSeconds, fn) => {
        const box: { t?: NodeJS.Timeout; done?: boolean } = {};
        const schedule = (): void => {
          const mean = meanSeconds();
          // A rate of zero (mean gap infinite or unset) means "never for now"; look again a simulated minute later.
          if (!(mean > 0 && Number.isFinite(mean))) {
            box.t = this.timer(60, () => !box.done && schedule());
            return;
          }
          box.t = this.timer(this.rng.exp(mean), () => {
            if (box.done) return;
            schedule();
            if (this.isConnected && !this.dropped) fn();
          });
        };
        schedule();
        return cancel(box);
      },
    };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e as Error)),
    );
  });
}
