import { transposeData } from '../context.ts';
import type { NodeContext, OpMapper, Value } from '../context.ts';
import type { Attrs } from '../onnx-writer.ts';
import { applyActivation } from './activation.ts';

/**
 * TF spatial attributes (NHWC lists) -> ONNX Conv/Pool attributes. TF "SAME" puts the odd pad pixel
 * at the end, which is ONNX SAME_UPPER; EXPLICIT lists (before, after) per NHWC dimension.
 */
export function spatialAttrs(n: NodeContext, listName: 'strides' | 'ksize'): { pads: Attrs; values: [number, number] } {
  if (n.attrs.string('data_format', 'NHWC') !== 'NHWC') n.fail('only NHWC data_format is supported');
  const list = n.attrs.ints(listName);
  if (list.length !== 4 || list[0] !== 1 || list[3] !== 1) n.fail(`${listName} ${JSON.stringify(list)} must be [1, h, w, 1]`);
  const padding = n.attrs.string('padding');
  let pads: Attrs;
  if (padding === 'SAME') pads = { auto_pad: { s: 'SAME_UPPER' } };
  else if (padding === 'VALID') pads = { auto_pad: { s: 'VALID' } };
  else if (padding === 'EXPLICIT') {
    const e = n.attrs.ints('explicit_paddings');
    if (e.length !== 8) n.fail(`explicit_paddings needs 8 values, got ${e.length}`);
    pads = { pads: { ints: [e[2]!, e[4]!, e[3]!, e[5]!] } };
  } else n.fail(`padding "${padding}" is not supported`);
  return { pads, values: [list[1]!, list[2]!] };
}

function dilations(n: NodeContext): [number, number] {
  const d = n.attrs.ints('dilations', [1, 1, 1, 1]);
  if (d.length !== 4 || d[0] !== 1 || d[3] !== 1) n.fail(`dilations ${JSON.stringify(d)} must be [1, h, w, 1]`);
  return [d[1]!, d[2]!];
}

/**
 * Conv2D and DepthwiseConv2dNative, plain or fused (TF grappler's _FusedConv2D: conv + BiasAdd + activation).
 * Filters: Conv2D HWIO -> OIHW. Depthwise HWCM -> (C*M)x1xHxW with group = C, since TF's output channel
 * c*M + m is filter [.., c, m], which is exactly ONNX's group c, output m.
 */
function conv(depthwise: boolean, fused: boolean): OpMapper {
  return (n) => {
    const x = n.input(0);
    const filter = n.constant(1, 'the filter');
    if (filter.shape.length !== 4) n.fail(`filter must be 4-D, got shape ${JSON.stringify(filter.shape)}`);
    const [kh, kw, cin, cm] = filter.shape as [number, number, number, number];
    const { pads, values: strides } = spatialAttrs(n, 'strides');
    const attrs: Attrs = { ...pads, strides: { ints: strides }, dilations: { ints: dilations(n) }, kernel_shape: { ints: [kh, kw] } };
    let weights: { data: Float32Array | Int32Array; shape: number[] };
    if (depthwise) {
      const t = transposeData(filter.data, filter.shape, [2, 3, 0, 1]); // C, M, H, W
      weights = { data: t.data, shape: [cin * cm, 1, kh, kw] };
      attrs.group = { i: cin };
    } else {
      weights = transposeData(filter.data, filter.shape, [3, 2, 0, 1]);
    }
    const w = n.ctx.initializer(`${filter.name}/oihw`, 'float32', weights.shape, weights.data);
    const inputs = [n.nchw(x), w];

    const fusedOps = fused ? n.attrs.strings('fused_ops') : [];
    let rest = fusedOps;
    if (fusedOps[0] === 'BiasAdd') {
      const bias = n.constant(2, 'the fused bias');
      inputs.push(n.ctx.initializer(`${bias.name}/bias`, 'float32', [bias.data.length], bias.data));
      rest = fusedOps.slice(1);
    } else if (fusedOps.length > 0) {
      n.fail(`fused ops ${JSON.stringify(fusedOps)} are not supported (expected BiasAdd first)`);
    }
    if (rest.length > 1) n.fail(`fused ops ${JSON.stringify(fusedOps)}: at most one activation after BiasAdd`);
    let y = n.emit('Conv', inputs, attrs, rest.length > 0 ? 'conv' : undefined);
    if (rest[0] !== undefined) y = applyActivation(n, rest[0], y, 'nchw', n.inputs[3] as Value | undefined);
    return n.out(y, 4, 'nchw');
  };
}

export const convOps: Record<string, OpMapper> = {
  Conv2D: conv(false, false),
  _FusedConv2D: conv(false, true),
  DepthwiseConv2dNative: conv(true, false),
  FusedDepthwiseConv2dNative: conv(true, true),
  _FusedDepthwiseConv2dNative: conv(true, true),
};
