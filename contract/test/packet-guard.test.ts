import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { PacketSizeGuard } from '../src/node/packet-guard.ts';

function publish(bytes: number): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic: 't/x', payload: Buffer.alloc(bytes, 1), qos: 0, dup: false, retain: false });
}

function collect(guard: PacketSizeGuard): Buffer[] {
  const out: Buffer[] = [];
  guard.on('data', (b: Buffer) => out.push(b));
  guard.on('error', () => {});
  return out;
}

describe('PacketSizeGuard', () => {
  it('passes packets within the limit through unchanged, however they are split', async () => {
    const sock = new PassThrough();
    const guard = new PacketSizeGuard(sock, 64 * 1024, () => { throw new Error('tripped'); });
    const out = collect(guard);
    const wire = Buffer.concat([publish(10), publish(300), publish(60_000), publish(0)]);
    for (let i = 0; i < wire.length; i += 7) sock.write(wire.subarray(i, i + 7));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(out).equals(wire)).toBe(true);
  });

  it('drops the connection on the header of an oversized packet', async () => {
    const sock = new PassThrough();
    let announced = 0;
    const guard = new PacketSizeGuard(sock, 1024 * 1024, (n) => (announced = n));
    const out = collect(guard);
    sock.write(publish(100));
    sock.write(publish(10 * 1024 * 1024).subarray(0, 5));
    await new Promise((r) => setImmediate(r));
    expect(announced).toBeGreaterThan(10 * 1024 * 1024);
    expect(guard.destroyed).toBe(true);
    expect(sock.destroyed).toBe(true);
    expect(Buffer.concat(out).length).toBe(publish(100).length);
  });
});
