import { parseGatewayTopic } from '@warden/contract';
import { durationMs } from '../config.ts';
import { startedOr, type HubContext, type HubModule } from '../module.ts';
import { AlarmEngine } from './engine.ts';
import { alarmSettings } from './settings.ts';
import { AlarmRepo } from './store.ts';

/**
 * Alarms as a hub module: the engine listens to the hub bus (`event`, `gateway`), i.e. only to what ingest made
 * durable, and ticks once a second on the hub clock. Started before ingest, so no stored event reaches the live
 * feed without passing the alarm rules. With `alarms.enabled: false` the engine exists (the REST routes read and
 * acknowledge stored alarms) but does not listen.
 */
export class AlarmsModule implements HubModule {
  readonly name = 'alarms';
  private engine_: AlarmEngine | undefined;
  private repo_: AlarmRepo | undefined;

  get engine(): AlarmEngine {
    return startedOr(this.engine_, this.name);
  }

  get repo(): AlarmRepo {
    return startedOr(this.repo_, this.name);
  }

  async start(ctx: HubContext): Promise<void> {
    const { stores } = ctx;
    this.repo_ = new AlarmRepo(stores.db);
    this.engine_ = new AlarmEngine({
      repo: this.repo_,
      devices: stores.devices,
      audit: stores.audit,
      bus: ctx.bus,
      settings: alarmSettings(ctx.config.alarms, durationMs),
      commands: ctx.commands,
      metrics: ctx.metrics,
      log: ctx.log,
      clock: ctx.clock,
    });
    if (ctx.config.alarms.enabled) {
      const engine = this.engine_;
      engine.start();
      // Linkage journalled but not finished by a previous run of the hub (killed between an alarm and its commands).
      void engine.resume();
      // A gateway can take commands once it has subscribed to its command topic (after its birth status).
      ctx.broker.aedes.on('subscribe', (subs) => {
        for (const sub of subs) {
          const t = parseGatewayTopic(sub.topic);
          if (t?.channel === 'cmd') setImmediate(() => engine.gatewayReady(t.gatewayId));
        }
      });
    }
  }

  async stop(): Promise<void> {
    await this.engine_?.stop();
  }
}
