import { NHWC_TO_NCHW_AXIS, rankOf } from '../context.ts';
import type { NodeContext, OpMapper } from '../context.ts';

const normaliseAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Ops that only forward their input. */
const identity: OpMapper = (n) => n.input(0);

/** Reshape follows TF's element order, so the input goes back to native layout first. */
const reshape: OpMapper = (n) => {
  const shape = n.ints(1, 'the target shape');
  if (shape.includes(0)) n.fail('a 0 in the target shape means "copy" in ONNX opset 13 and "empty" in TF; refusing');
  const name = n.emit('Reshape', [n.native(n.input(0)), n.ctx.int64s(`${n.name}/shape`, shape)]);
  return n.out(name, shape.length, 'native');
};

const squeeze: OpMapper = (n) => {
  const x = n.input(0);
  const rank = rankOf(x);
  const axes = n.attrs.ints('squeeze_dims', n.attrs.ints('axis', [])).map((a) => normaliseAxis(a, rank));
  // Without axes TF drops every size-1 dimension, which needs the static shape this converter does not track.
  if (axes.length === 0) n.fail('Squeeze without explicit squeeze_dims is not supported');
  const name = n.emit('Squeeze', [n.native(x), n.ctx.int64s(`${n.name}/axes`, axes)]);
  return n.out(name, rank - axes.length, 'native');
};

const expandDims: OpMapper = (n) => {
  const x = n.input(0);
  const [axis] = n.ints(1, 'the axis');
  const rank = rankOf(x) + 1;
  const name = n.emit('Unsqueeze', [n.native(x), n.ctx.int64s(`${n.name}/axes`, [normaliseAxis(axis!, rank)])]);
  return n.out(name, rank, 'native');
};

function pad(mode: 'constant' | 'mirror'): OpMapper {
  return (n: NodeContext) => {
    const x = n.input(0);
    const rank = rankOf(x);
    const flat = n.ints(1, 'the paddings');
    if (flat.length !== rank * 2) n.fail(`paddings has ${flat.length} values, expected ${rank * 2}`);
    const nchw = x.kind === 'runtime' && x.layout === 'nchw';
    // ONNX lists all begins, then all ends; TF lists (begin, end) per dimension.
    const dims = nchw ? [0, 3, 1, 2] : [...Array(rank).keys()];
    const pads = [...dims.map((d) => flat[d * 2]!), ...dims.map((d) => flat[d * 2 + 1]!)];
    const inputs = [nchw ? n.nchw(x) : n.native(x), n.ctx.int64s(`${n.name}/pads`, pads)];
    let attrs = {};
    if (mode === 'mirror') {
      const m = n.attrs.string('mode');
      if (m !== 'REFLECT') n.fail(`MirrorPad mode ${m} has no ONNX equivalent`);
      attrs = { mode: { s: 'reflect' } };
    } else if (n.inputs.length > 2) {
      const c = n.constant(2, 'the pad value');
      inputs.push(n.ctx.initializer(`${n.name}/value`, 'float32', [], Float32Array.of(Number(c.data[0]))));
    }
    return n.out(n.emit('Pad', inputs, attrs), rank, nchw ? 'nchw' : 'native');
  };
}

/** ConcatV2: N values then the axis. A concat of 4-D tensors stays NCHW when one of them already is. */
const concat: OpMapper = (n) => {
  const values = n.inputs.slice(0, -1);
  const [axisValue] = n.ints(n.inputs.length - 1, 'the axis');
  const rank = Math.max(...values.map(rankOf));
  const layout = n.broadcastLayout(values);
  let axis = normaliseAxis(axisValue!, rank);
  if (layout === 'nchw') axis = NHWC_TO_NCHW_AXIS[axis]!;
  return n.out(n.emit('Concat', values.map((v) => n.inLayout(v, layout)), { axis: { i: axis } }), rank, layout);
};

const transpose: OpMapper = (n) => {
  const perm = n.ints(1, 'the permutation');
  return n.out(n.emit('Transpose', [n.native(n.input(0))], { perm: { ints: perm } }), perm.length, 'native');
};

export const shapeOps: Record<string, OpMapper> = {
  Identity: identity,
  Snapshot: identity,
  StopGradient: identity,
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  Pad: pad('constant'),
  PadV2: pad('constant'),
  MirrorPad: pad('mirror'),
  ConcatV2: concat,
  Transpose: transpose,
};
