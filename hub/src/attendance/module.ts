import type { AttendanceLive, HubEvent, Scope as UserScope } from '@warden/contract';
import type { HubConfig } from '../config.ts';
import { startedOr, type HubContext, type HubModule } from '../module.ts';
import type { StoredEvent } from '../store/events.ts';
import { AttendanceService, scopeOf, sees, type Scope } from './service.ts';
import { AttendanceStore } from './store.ts';

/**
 * What a user may see in attendance: admin everything (null); a dorm manager the buildings assigned in
 * `faces.dormManagers` and their user scope's `dorms`; a counsellor (辅导员) the students in their scope's `students`
 * wherever they live plus the dorm buildings in `dorms`/`buildings`; anyone else nothing.
 */
export function attendanceScope(user: { username: string; roles: readonly string[]; scope?: UserScope }, config: HubConfig): Scope {
  if (user.roles.includes('admin')) return null;
  const buildings = new Set<string>();
  const students: string[] = [];
  if (user.roles.includes('dorm')) for (const b of [...(config.faces.dormManagers[user.username] ?? []), ...(user.scope?.dorms ?? [])]) buildings.add(b);
  if (user.roles.includes('counsellor')) {
    for (const b of [...(user.scope?.dorms ?? []), ...(user.scope?.buildings ?? [])]) buildings.add(b);
    students.push(...(user.scope?.students ?? []));
  }
  return scopeOf(buildings, students);
}

/**
 * Dorm attendance as a hub module: takes `attendance.checkin` events and device/gateway availability from the bus,
 * reports each building's curfew list at curfew + N (live and to robot webhooks), serves the routes' queries.
 * Started before ingest so it sees every stored check-in.
 */
export class AttendanceModule implements HubModule {
  readonly name = 'attendance';
  private service_: AttendanceService | undefined;
  private off: Array<() => void> = [];

  get service(): AttendanceService {
    return startedOr(this.service_, this.name);
  }

  /** For the live feed: may this user receive this message? Attendance messages and check-in events are scoped by building. */
  mayReceive(user: { username: string; roles: readonly string[]; scope?: UserScope }, config: HubConfig, channel: string, msg: unknown): boolean {
    if (channel === 'attendance') {
      const scope = attendanceScope(user, config);
      const m = msg as AttendanceLive;
      if (scope === null || scope.has(m.building)) return true;
      // A counsellor gets their students' state changes and corrections (a building's report list is not narrowed per row).
      return m.kind !== 'report' && sees(scope, m.row.building, m.row.student);
    }
    if (channel === 'event' && (msg as HubEvent).type === 'attendance.checkin') {
      // Staff who see every event (admin, security) see check-ins; a dorm manager only their residents'.
      if (user.roles.includes('admin') || user.roles.includes('security')) return true;
      const person = (msg as HubEvent).data.person;
      const svc = this.service_;
      return typeof person === 'string' && svc !== undefined && svc.inScope(person, attendanceScope(user, config));
    }
    return true;
  }

  async start(ctx: HubContext): Promise<void> {
    const { bus, log } = ctx;
    const devices = ctx.stores.devices;
    const svc = new AttendanceService({
      store: new AttendanceStore(ctx.stores.db),
      audit: ctx.stores.audit,
      now: ctx.clock,
      deviceBuilding: (id) => devices.get(id)?.building ?? null,
      publish: (msg) => bus.emit('attendance', msg),
      registry: ctx.metrics.registry,
      log,
    });
    this.service_ = svc;
    // A listener that throws would throw into ingest's emit: every handler logs instead.
    const guard =
      <A extends unknown[]>(what: string, fn: (...a: A) => void) =>
      (...a: A) => {
        try {
          fn(...a);
        } catch (err) {
          log.error({ err }, `attendance: ${what} failed`);
        }
      };
    const onEvent = guard('check-in', (e: StoredEvent) => svc.onEvent(e));
    const onDevice = guard('device availability', (d: { id: string; online: boolean }) => svc.onAvailability('point', d.id, d.online, ctx.clock()));
    const onGateway = guard('gateway availability', (g: { id: string; online: boolean }) => svc.onAvailability('gateway', g.id, g.online, ctx.clock()));
    bus.on('event', onEvent);
    bus.on('device', onDevice);
    bus.on('gateway', onGateway);
    this.off = [() => bus.off('event', onEvent), () => bus.off('device', onDevice), () => bus.off('gateway', onGateway)];
    svc.start();
  }

  async stop(): Promise<void> {
    for (const off of this.off.splice(0)) off();
    await this.service_?.stop();
  }
}
