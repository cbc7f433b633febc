import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '@warden/contract';
import { alarmHarness, type Harness } from './harness.ts';

describe('linkage: PTZ presets', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness({ linkage: [{ type: 'intrusion.alarm', ptz: [{ camera: 'cam-1', preset: 'Stairwell' }, { camera: 'cam-2', preset: 'preset_lobby' }] }] })));
  afterEach(() => h.close());

  it('points the configured cameras at their presets with camera.goto_preset, once per alarm, on the timeline', async () => {
    h.event('zone-1', 'intrusion.alarm');
    h.event('zone-1', 'intrusion.alarm');
    await h.engine.idle();
    const cmds = h.published.map((p) => JSON.parse(p.payload) as Command).map((c) => [c.device, c.action, c.params]);
    expect(cmds.sort()).toEqual([
      ['cam-1', 'camera.goto_preset', { preset: 'Stairwell' }],
      ['cam-2', 'camera.goto_preset', { preset: 'preset_lobby' }],
    ]);
    const alarm = h.only('intrusion.alarm');
    const sent = h.repo.timeline(alarm.id).filter((t) => t.kind === 'linkage.command' && t.detail!.action === 'camera.goto_preset');
    expect(sent.map((t) => t.detail!.device).sort()).toEqual(['cam-1', 'cam-2']);
  });
});
