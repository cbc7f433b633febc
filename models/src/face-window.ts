import jpeg from 'jpeg-js';
import type { RgbImage } from './image.ts';

/** A face's box in image pixels (the pipeline's FaceResult.box has this shape). */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * A square JPEG window of `side` pixels centred on a face (shifted `dx` pixels sideways), scaled to `size`
 * pixels a side by nearest neighbour: an enrolment photo or a terminal frame cut from a larger picture.
 * Pixels outside the picture repeat its edge.
 */
export function faceWindowJpeg(img: RgbImage, box: FaceBox, side: number, opts: { dx?: number; size?: number; quality?: number } = {}): Buffer {
  const size = opts.size ?? 320;
  const cx = box.x + box.width / 2 + (opts.dx ?? 0);
  const cy = box.y + box.height / 2;
  const rgba = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, Math.round(cx - side / 2 + (x * side) / size)));
      const sy = Math.min(img.height - 1, Math.max(0, Math.round(cy - side / 2 + (y * side) / size)));
      for (let c = 0; c < 3; c++) rgba[(y * size + x) * 4 + c] = img.data[(sy * img.width + sx) * 3 + c]!;
      rgba[(y * size + x) * 4 + 3] = 255;
    }
  return Buffer.from(jpeg.encode({ data: rgba, width: size, height: size }, opts.quality ?? 88).data);
}
