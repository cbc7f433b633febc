import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * Wraps a broker connection and drops it as soon as an MQTT packet announces a remaining length
 * above `maxBytes`, before the broker buffers a byte of its payload. aedes has no packet size
 * limit of its own, and without one a single 256 MB PUBLISH would be held in memory whole.
 * Only fixed headers are inspected ([MQTT-2.2.3] remaining length, 1-4 bytes); payload bytes are
 * skipped by arithmetic, so the cost is per packet, not per byte.
 */
export class PacketSizeGuard extends Duplex {
  private need = 0; // payload bytes still to skip in the current packet
  private header = 0; // 0: expect packet type byte, 1..4: reading remaining-length byte n
  private length = 0;
  private multiplier = 1;
  private tripped = false;

  constructor(
    private readonly socket: Socket | Duplex,
    private readonly maxBytes: number,
    private readonly onOversize: (announcedBytes: number) => void,
  ) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      if (this.tripped) return;
      const announced = this.scan(chunk);
      if (announced > 0) {
        this.tripped = true;
        this.onOversize(announced);
        socket.destroy();
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  /** Returns 0 when all packets in the chunk are within the limit, else the offending announced length. */
  private scan(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.need > 0) {
        const skip = Math.min(this.need, chunk.length - i);
        this.need -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.header === 0) {
        this.header = 1;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (this.length > this.maxBytes) return this.length;
      if ((byte & 0x80) === 0 || this.header === 4) {
        this.need = this.length;
        this.header = 0;
      } else {
        this.header++;
      }
    }
    return 0;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    void encoding;
    (this.socket as Duplex).write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
