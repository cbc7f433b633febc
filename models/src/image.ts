import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { InputSpec } from './registry.ts';

/** 8-bit RGB pixels, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

function rgbaToRgb(width: number, height: number, rgba: Uint8Array): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
    data[j] = rgba[i]!;
    data[j + 1] = rgba[i + 1]!;
    data[j + 2] = rgba[i + 2]!;
  }
  return { width, height, data };
}

/** Images larger than these are refused before decoding: a small file can declare a huge canvas. */
export const MAX_IMAGE_BYTES = 16 * 1024 * 1024;
export const MAX_IMAGE_PIXELS = 4096 * 4096;
export const MAX_IMAGE_SIDE = 8192;

/** The image is over a byte or pixel limit (or its header is unreadable); nothing was decoded. */
export class ImageLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageLimitError';
  }
}

/** Width and height from a PNG's IHDR or a JPEG's SOF marker, without decoding; null when not found. */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number } | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    // Signature (8), chunk length (4), 'IHDR' (4), width (4), height (4).
    if (String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) !== 'IHDR') return null;
    return { width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    let i = 2;
    while (i + 4 <= bytes.length) {
      if (bytes[i] !== 0xff) return null;
      const marker = bytes[i + 1]!;
      if (marker === 0xff) {
        i += 1; // fill byte
        continue;
      }
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        i += 2;
        continue;
      }
      const len = dv.getUint16(i + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision (1), height (2), width (2).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (i + 9 > bytes.length) return null;
        return { width: dv.getUint16(i + 7), height: dv.getUint16(i + 5) };
      }
      if (marker === 0xda || len < 2) return null; // scan data before any frame header
      i += 2 + len;
    }
  }
  return null;
}

/** Refuses, before any decoding, a file over MAX_IMAGE_BYTES or declaring more than MAX_IMAGE_PIXELS / MAX_IMAGE_SIDE. */
export function checkImageLimits(bytes: Uint8Array): { width: number; height: number } {
  if (bytes.length > MAX_IMAGE_BYTES) throw new ImageLimitError(`image is ${bytes.length} bytes, over the limit of ${MAX_IMAGE_BYTES}`);
  const dim = imageDimensions(bytes);
  if (!dim) throw new ImageLimitError('not a PNG or JPEG image (no readable size in its header)');
  const { width, height } = dim;
  if (width === 0 || height === 0) throw new ImageLimitError(`image declares ${width}x${height} pixels`);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new ImageLimitError(`image declares ${width}x${height} pixels, over the limit of ${MAX_IMAGE_PIXELS} pixels (${MAX_IMAGE_SIDE} per side)`);
  }
  return dim;
}

/**
 * Decodes a PNG or JPEG file (by its magic bytes) to RGB; grayscale and palette images are expanded.
 * Byte and pixel limits are checked on the header first (checkImageLimits), so nothing oversized is decoded.
 */
export function decodeImage(bytes: Uint8Array): RgbImage {
  checkImageLimits(bytes);
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return rgbaToRgb(png.width, png.height, png.data);
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
    return rgbaToRgb(img.width, img.height, img.data);
  }
  throw new Error('not a PNG or JPEG image');
}

/**
 * Bilinear resize to float RGB with TF's default sampling (align_corners = false, half_pixel_centers = false),
 * which is what tf.image.resizeBilinear does in Human and face-api: source = dest * (in / out).
 */
export function resizeBilinear(img: RgbImage, height: number, width: number): Float32Array {
  const out = new Float32Array(height * width * 3);
  const sy = img.height / height;
  const sx = img.width / width;
  for (let y = 0; y < height; y++) {
    const fy = y * sy;
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const dy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = x * sx;
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const dx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const tl = img.data[(y0 * img.width + x0) * 3 + c]!;
        const tr = img.data[(y0 * img.width + x1) * 3 + c]!;
        const bl = img.data[(y1 * img.width + x0) * 3 + c]!;
        const br = img.data[(y1 * img.width + x1) * 3 + c]!;
        const top = tl + (tr - tl) * dx;
        const bottom = bl + (br - bl) * dx;
        out[(y * width + x) * 3 + c] = top + (bottom - top) * dy;
      }
    }
  }
  return out;
}

/** One image as a model's input tensor data (batch of 1, NHWC): resized to the input size, then scaled as the model expects. */
export function imageToInput(img: RgbImage, input: Pick<InputSpec, 'shape' | 'scale' | 'offset'>): Float32Array {
  const [, h, w] = input.shape;
  if (typeof h !== 'number' || typeof w !== 'number') throw new Error('model input has no fixed height and width');
  const data = img.width === w && img.height === h ? Float32Array.from(img.data) : resizeBilinear(img, h, w);
  if (input.scale !== 1 || input.offset !== 0) for (let i = 0; i < data.length; i++) data[i] = data[i]! * input.scale + input.offset;
  return data;
}

let mozjpeg: Promise<(buffer: ArrayBuffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>> | undefined;

/** mozjpeg compiled to WebAssembly (@jsquash/jpeg), loaded once from the package's own .wasm file (no fetch). */
function loadMozjpeg() {
  mozjpeg ??= (async () => {
    const [{ readFile }, { createRequire }, codec] = await Promise.all([import('node:fs/promises'), import('node:module'), import('@jsquash/jpeg/decode.js')]);
    const wasm = await readFile(createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'));
    await codec.init(new WebAssembly.Module(wasm));
    return codec.default as unknown as (buffer: ArrayBuffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
  })();
  return mozjpeg;
}

/**
 * decodeImage for the latency path: JPEG through mozjpeg in WebAssembly, about 7x faster than jpeg-js
 * (a 1920x1350 photo: 21 ms against 147 ms here; a 480x480 terminal frame about 2 ms against 12 ms).
 * The two decoders differ by rounding (mean 0.5 grey levels); parity tests keep the sync jpeg-js path.
 */
export async function decodeImageAsync(bytes: Uint8Array): Promise<RgbImage> {
  if (!(bytes[0] === 0xff && bytes[1] === 0xd8)) return decodeImage(bytes);
  checkImageLimits(bytes);
  const decode = await loadMozjpeg();
  let img: { width: number; height: number; data: Uint8ClampedArray };
  try {
    img = await decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  } catch (err) {
    throw new Error(`not a decodable JPEG image (${(err as Error).message})`);
  }
  return rgbaToRgb(img.width, img.height, new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength));
}
