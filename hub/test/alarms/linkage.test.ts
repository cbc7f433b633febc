import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '@warden/contract';
import { alarmHarness, type Harness } from './harness.ts';

describe('linkage', () => {
  let h: Harness;
  beforeEach(
    async () =>
      (h = await alarmHarness({
        linkage: [
          { type: 'fire.*', building: 'lib', holdOpen: 'all', turnstiles: 'free', cameras: true },
          { type: 'intrusion.alarm', zone: 'lib-1f', holdOpen: ['door-2'], cameras: true, notify: ['security'] },
        ],
      })),
  );
  afterEach(() => h.close());

  it('runs once per alarm, not on its repeats, with commands for the building only', async () => {
    h.event('smoke-1', 'fire.alarm');
    h.event('smoke-1', 'fire.alarm');
    await h.engine.idle();
    const cmds = h.published.map((p) => [p.topic, (JSON.parse(p.payload) as Command).device, (JSON.parse(p.payload) as Command).action]);
    expect(cmds.sort()).toEqual([
      ['warden/v1/gw/gw-1/cmd', 'door-1', 'door.hold_open'],
      ['warden/v1/gw/gw-1/cmd', 'door-2', 'door.hold_open'],
      ['warden/v1/gw/gw-1/cmd', 'ts-1', 'turnstile.set_mode'],
    ]);
    expect(h.linkage.find((m) => m.action === 'cameras.show')?.cameras).toEqual(['cam-1']);
    expect(h.audit.list(50).filter((e) => e.actor === 'system:linkage')).toHaveLength(3);
  });

  it('a second detector in the same fire does not resend; once those alarms are resolved it does', async () => {
    h.event('smoke-1', 'fire.alarm');
    h.event('smoke-1', 'fire.fault', { fault: 'x' });
    await h.engine.idle();
    expect(h.published).toHaveLength(3);
    // Both alarms' linkage runs interleave; between them each device gets one command and one "already sent".
    const entries = h.all().flatMap((a) => h.repo.timeline(a.id).filter((t) => t.kind === 'linkage.command'));
    expect(entries.filter((t) => t.detail!.commandId).map((t) => t.detail!.device).sort()).toEqual(['door-1', 'door-2', 'ts-1']);
    expect(entries.filter((t) => /already sent/.test(String(t.detail!.skipped))).map((t) => t.detail!.device).sort()).toEqual(['door-1', 'door-2', 'ts-1']);
    for (const a of h.open()) h.engine.resolve(a.id, 'desk', 'drill over');
    h.event('smoke-1', 'fire.alarm');
    await h.engine.idle();
    expect(h.published).toHaveLength(6);
  });

  it('a fire trouble matches the fire.* entry; an intrusion in another zone matches nothing', async () => {
    h.event('smoke-1', 'fire.fault', { fault: 'x' });
    h.event('door-9', 'intrusion.alarm');
    await h.engine.idle();
    expect(h.published).toHaveLength(3);
    expect(h.linkage.filter((m) => m.action === 'notify')).toEqual([]);
  });

  it('an edge fail-safe report lands in the fire alarm timeline, with its results, audited as the gateway', async () => {
    h.event('smoke-1', 'fire.alarm');
    await h.engine.idle();
    const fire = h.only('fire.alarm');
    h.event('smoke-1', 'linkage.failsafe', { trigger: 'fire.alarm', reason: 'hub_down', actions: [{ device: 'door-1', action: 'door.hold_open', command: 'edge-cmd-1' }] });
    h.event('door-1', 'command.result', { command: 'edge-cmd-1', action: 'door.hold_open', ok: true });
    const kinds = h.repo.timeline(fire.id).map((t) => t.kind);
    expect(kinds).toContain('linkage.failsafe');
    expect(h.repo.timeline(fire.id).find((t) => t.kind === 'linkage.result' && t.detail!.commandId === 'edge-cmd-1')).toMatchObject({ detail: { ok: true, device: 'door-1' } });
    expect(h.linkage.find((m) => m.failsafe)).toMatchObject({ alarmId: fire.id, action: 'door.hold_open', devices: ['door-1'] });
    expect(h.audit.list(50).find((e) => e.action === 'linkage.failsafe')).toMatchObject({ actor: 'gateway:gw-1', target: 'smoke-1', detail: { alarm: fire.id, reason: 'hub_down' } });
  });

  it('a command that cannot be sent is in the timeline and the audit with its reason', async () => {
    const g = await alarmHarness({ evacuationRoutes: { lib: ['door-1', 'no-such-door'] }, linkage: [{ type: 'fire.alarm', holdOpen: 'evacuation' }] });
    try {
      g.event('smoke-1', 'fire.alarm');
      await g.engine.idle();
      const fire = g.only('fire.alarm');
      const failed = g.repo.timeline(fire.id).find((t) => t.kind === 'linkage.command' && t.detail!.device === 'no-such-door');
      expect(failed!.detail!.error).toMatch(/No such device/);
      expect(g.linkage.find((m) => m.action === 'door.hold_open')!.devices).toEqual(['door-1']);
    } finally {
      await g.close();
    }
  });
});
