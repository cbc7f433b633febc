import jpeg from 'jpeg-js';

/**
 * A virtual camera's snapshot: colour bars with a band of blocks that spells the camera's number
 * in binary (so two cameras' snapshots differ), or, while the camera is tampered with (lens covered),
 * an almost black frame. Encoded with jpeg-js once per camera and state, then served from memory.
 */
const BARS: ReadonlyArray<readonly [number, number, number]> = [
  [235, 235, 235], [235, 235, 16], [16, 235, 235], [16, 235, 16], [235, 16, 235], [235, 16, 16], [16, 16, 235],
];

export function snapshotJpeg(index: number, covered: boolean, width = 320, height = 180): Buffer {
  const data = Buffer.alloc(width * height * 4);
  const bits = index.toString(2).padStart(16, '0');
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let px: readonly [number, number, number];
      if (covered) px = [8 + ((x * 7 + y * 3) % 5), 8, 8];
      else if (y > height * 0.8) px = bits[Math.floor((x / width) * 16)] === '1' ? [235, 235, 235] : [16, 16, 16];
      else px = BARS[Math.floor((x / width) * BARS.length)]!;
      const o = (y * width + x) * 4;
      data[o] = px[0];
      data[o + 1] = px[1];
      data[o + 2] = px[2];
      data[o + 3] = 255;
    }
  }
  return jpeg.encode({ data, width, height }, 80).data;
}
