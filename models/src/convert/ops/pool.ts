import type { OpMapper } from '../context.ts';
import { spatialAttrs } from './conv.ts';

/** TF average pooling with SAME padding leaves the padding out of the count: ONNX's count_include_pad = 0. */
function pool(onnxOp: 'MaxPool' | 'AveragePool'): OpMapper {
  return (n) => {
    const { pads, values: kernel } = spatialAttrs(n, 'ksize');
    const { values: strides } = spatialAttrs(n, 'strides');
    const attrs = { ...pads, kernel_shape: { ints: kernel }, strides: { ints: strides } };
    return n.out(n.emit(onnxOp, [n.nchw(n.input(0))], onnxOp === 'AveragePool' ? { ...attrs, count_include_pad: { i: 0 } } : attrs), 4, 'nchw');
  };
}

export const poolOps: Record<string, OpMapper> = {
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
};
