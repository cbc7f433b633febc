export { FacePipeline, CANONICAL_150, similarity } from './pipeline.ts';
export type { AnalyseOptions, FacePipelineOptions, FaceResult, Liveness, ModelRunner, Recogniser } from './pipeline.ts';
export { detectFaces, detectionWindows, weightedNms } from './detect.ts';
export type { Box, Detection, DetectOptions } from './detect.ts';
export { assessQuality, laplacianVariance, poseFromKeypoints } from './quality.ts';
export type { Quality, QualityOptions, QualityReason } from './quality.ts';
export { applyAffine, invertAffine, similarityTransform, warpAffine } from './warp.ts';
export type { Affine, Point } from './warp.ts';
