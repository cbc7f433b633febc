export { loadModel, modelRecord, isModelName, MODELS, MODEL_NAMES } from './registry.ts';
export type { InputSpec, LoadModelOptions, ModelName, ModelRecord } from './registry.ts';
export { buildModel, buildModels, modelPath } from './build.ts';
export type { BuildOptions, BuildResult } from './build.ts';
export { ImageLimitError, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, checkImageLimits, decodeImage, decodeImageAsync, imageDimensions, imageToInput, resizeBilinear } from './image.ts';
export type { RgbImage } from './image.ts';
export { convertGraphModel, CONVERTER_VERSION } from './convert/convert.ts';
export { ConvertError, UnsupportedOpError } from './convert/errors.ts';
export * from './pipeline/index.ts';
