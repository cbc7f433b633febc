import type { Point } from './warp.ts';

export type QualityReason = 'too_small' | 'blurry' | 'pose_yaw' | 'pose_roll' | 'pose_pitch' | 'low_score';

export interface QualityOptions {
  /** Minimum distance between the eyes in source pixels (default 16: about a 40-pixel face). */
  minEyeDistance?: number;
  /** Minimum variance of the Laplacian of the aligned grey crop (default 15; the labelled crops score 60-400, a 3x3-box-blurred crop about 10). */
  minSharpness?: number;
  /** Largest |yaw| as nose offset along the eye line over eye distance (default 0.35; frontal faces 0-0.15). */
  maxYaw?: number;
  /** Largest |roll| in degrees (default 35; alignment removes roll, detection degrades beyond it). */
  maxRollDeg?: number;
  /** Allowed nose drop below the eye line over eye distance (default 0.35..1.2; frontal faces about 0.7). */
  pitchRange?: readonly [number, number];
  /** Minimum detector score (default 0.7). */
  minScore?: number;
}

export interface Quality {
  ok: boolean;
  reasons: QualityReason[];
  eyeDistance: number;
  sharpness: number;
  yaw: number;
  rollDeg: number;
  pitch: number;
  score: number;
}

/** Variance of the 4-neighbour Laplacian of the grey image: low on blurred or defocused faces. */
export function laplacianVariance(rgb: Float32Array, width: number, height: number): number {
  const grey = new Float32Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = 0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  // Skip a border: the aligned crop may carry zero padding, whose edge is not the face's sharpness.
  const m = Math.round(Math.min(width, height) * 0.15);
  for (let y = m; y < height - m; y++) {
    for (let x = m; x < width - m; x++) {
      const i = y * width + x;
      const l = grey[i - 1]! + grey[i + 1]! + grey[i - width]! + grey[i + width]! - 4 * grey[i]!;
      sum += l;
      sumSq += l * l;
      n++;
    }
  }
  return n === 0 ? 0 : sumSq / n - (sum / n) ** 2;
}

/** Head pose from the eye and nose keypoints (source pixels): roll from the eye line, yaw and pitch from where the nose sits relative to it. */
export function poseFromKeypoints(keypoints: readonly Point[]): { eyeDistance: number; yaw: number; rollDeg: number; pitch: number } {
  const [e1, e2, nose] = keypoints as [Point, Point, Point];
  const [left, right] = e1.x <= e2.x ? [e1, e2] : [e2, e1];
  const dx = right.x - left.x;
  const dy = right.y - left.y;
  const eyeDistance = Math.hypot(dx, dy);
  if (eyeDistance === 0) return { eyeDistance, yaw: Infinity, rollDeg: 0, pitch: 0 };
  const ux = dx / eyeDistance;
  const uy = dy / eyeDistance;
  const mx = nose.x - (left.x + right.x) / 2;
  const my = nose.y - (left.y + right.y) / 2;
  return { eyeDistance, yaw: (mx * ux + my * uy) / eyeDistance, rollDeg: (Math.atan2(dy, dx) * 180) / Math.PI, pitch: (-mx * uy + my * ux) / eyeDistance };
}

export function assessQuality(keypoints: readonly Point[], score: number, sharpness: number, options: QualityOptions = {}): Quality {
  const pose = poseFromKeypoints(keypoints);
  const [pMin, pMax] = options.pitchRange ?? [0.35, 1.2];
  const reasons: QualityReason[] = [];
  if (pose.eyeDistance < (options.minEyeDistance ?? 16)) reasons.push('too_small');
  if (sharpness < (options.minSharpness ?? 15)) reasons.push('blurry');
  if (!(Math.abs(pose.yaw) <= (options.maxYaw ?? 0.35))) reasons.push('pose_yaw');
  if (Math.abs(pose.rollDeg) > (options.maxRollDeg ?? 35)) reasons.push('pose_roll');
  if (pose.pitch < pMin || pose.pitch > pMax) reasons.push('pose_pitch');
  if (score < (options.minScore ?? 0.7)) reasons.push('low_score');
  return { ok: reasons.length === 0, reasons, ...pose, sharpness, score };
}
