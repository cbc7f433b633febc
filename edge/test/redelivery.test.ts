import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseEdgeConfig } from '../src/config.ts';
import { buildDeviceTable } from '../src/devices.ts';
import { FieldIngest } from '../src/ingest.ts';
import { EdgeMetrics } from '../src/metrics.ts';
import { Outbox } from '../src/outbox.ts';
import { silent, tempDir } from './helpers.ts';

/**
 * A device whose PUBACK was lost (the agent was SIGKILLed after committing, or the link broke) sends
 * the same packet again on its next connection. It must not be stored twice — even by a new agent
 * process reading the same outbox.
 */
describe('field redelivery guard', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((f) => f()));

  function agentOn(path: string) {
    const config = parseEdgeConfig({ gateway: { id: 'gw-test' }, field: { requireAuth: false }, outbox: { path }, devices: [{ id: 'door-1', driver: 'door-controller' }] });
    const outbox = Outbox.open(path);
    const metrics = new EdgeMetrics({ backlog: () => outbox.backlog(), hubConnected: () => false, devicesOnline: () => 0 });
    const ingest = new FieldIngest({ devices: buildDeviceTable(config.devices), outbox, metrics, logger: silent, onRecords: () => {}, onReply: () => {} });
    cleanups.push(() => outbox.close());
    return { outbox, metrics, ingest };
  }

  const msg = (card: string) => Buffer.from(JSON.stringify({ event: 'CARD_GRANTED', door: 1, card }));

  it('drops a byte-identical resend of a stored packet from a later connection, across a restart', () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const path = join(tmp.dir, 'outbox.db');
    const first = agentOn(path);
    first.ingest.handle('door-1', 'acs/door-1/event', msg('1'), { messageId: 7, connection: 'boot-a-1' });
    first.ingest.handle('door-1', 'acs/door-1/event', msg('2'), { messageId: 8, connection: 'boot-a-1' });
    first.outbox.close();

    const second = agentOn(path);
    // The device resends 8 (no PUBACK seen), then carries on with 9.
    second.ingest.handle('door-1', 'acs/door-1/event', msg('2'), { messageId: 8, connection: 'boot-b-1' });
    second.ingest.handle('door-1', 'acs/door-1/event', msg('3'), { messageId: 9, connection: 'boot-b-1' });
    const cards = second.outbox.peek(0, 100).map((r) => (r.kind === 'event' ? (r.data as { credential?: string }).credential : null));
    expect(cards).toEqual(['1', '2', '3']);
    expect(second.metrics.get('field.redeliveries')).toBe(1);
  });

  it('stores a new message that reuses a packet id, on the same or a later connection', () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const a = agentOn(join(tmp.dir, 'outbox.db'));
    a.ingest.handle('door-1', 'acs/door-1/event', msg('1'), { messageId: 1, connection: 'c1' });
    a.ingest.handle('door-1', 'acs/door-1/event', msg('1'), { messageId: 1, connection: 'c1' }); // same connection: ids are reused only after PUBACK
    a.ingest.handle('door-1', 'acs/door-1/event', msg('2'), { messageId: 1, connection: 'c2' }); // other payload
    expect(a.outbox.backlog()).toBe(3);
    expect(a.metrics.get('field.redeliveries')).toBe(0);
  });
});
