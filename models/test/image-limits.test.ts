import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ImageLimitError, MAX_IMAGE_BYTES, decodeImage, decodeImageAsync, imageDimensions } from '../src/image.ts';

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A tiny, well-formed PNG header declaring width x height (8-bit RGBA), with a few bytes of compressed data. */
function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1024))), chunk('IEND', Buffer.alloc(0))]);
}

describe('image limits before decoding', () => {
  it('refuses a tiny PNG declaring 30000x30000 pixels without decoding it', () => {
    const bomb = pngDeclaring(30_000, 30_000);
    expect(bomb.length).toBeLessThan(200);
    expect(imageDimensions(bomb)).toEqual({ width: 30_000, height: 30_000 });
    const before = process.memoryUsage().rss;
    expect(() => decodeImage(bomb)).toThrow(ImageLimitError);
    expect(() => decodeImage(bomb)).toThrow(/30000x30000 pixels, over the limit of 16777216/);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a JPEG declaring too many pixels, and a file over the byte limit', async () => {
    const small = Buffer.from(jpeg.encode({ width: 16, height: 8, data: Buffer.alloc(16 * 8 * 4, 128) }, 80).data);
    expect(imageDimensions(small)).toEqual({ width: 16, height: 8 });
    // Patch the frame header to claim 20000x20000.
    const big = Buffer.from(small);
    const sof = big.indexOf(Buffer.from([0xff, 0xc0]));
    big.writeUInt16BE(20_000, sof + 5);
    big.writeUInt16BE(20_000, sof + 7);
    expect(() => decodeImage(big)).toThrow(/20000x20000 pixels/);
    await expect(decodeImageAsync(big)).rejects.toThrow(ImageLimitError);
    const huge = Buffer.concat([small, Buffer.alloc(MAX_IMAGE_BYTES)]);
    expect(() => decodeImage(huge)).toThrow(/over the limit of 16777216/);
  });

  it('still decodes ordinary images', () => {
    const png = new PNG({ width: 64, height: 48 });
    png.data.fill(200);
    const img = decodeImage(PNG.sync.write(png));
    expect([img.width, img.height]).toEqual([64, 48]);
    const jpg = decodeImage(Buffer.from(jpeg.encode({ width: 640, height: 480, data: Buffer.alloc(640 * 480 * 4, 90) }, 80).data));
    expect([jpg.width, jpg.height]).toEqual([640, 480]);
  });
});
