import { NHWC_TO_NCHW_AXIS, rankOf } from '../context.ts';
import type { OpMapper } from '../context.ts';

/**
 * Reductions. On an NCHW-stored input the axes are remapped; the result stays NCHW when dims are kept,
 * and is native when what remains has the same order in both layouts (e.g. mean over H, W leaves [N, C]).
 * In opset 13 ReduceSum takes its axes as an input, the other reductions as an attribute.
 */
function reduce(onnxOp: 'ReduceMean' | 'ReduceSum' | 'ReduceMax' | 'ReduceMin' | 'ReduceProd'): OpMapper {
  return (n) => {
    const x = n.input(0);
    const rank = rankOf(x);
    const keep = n.attrs.bool('keep_dims');
    const axes = [...new Set(n.ints(1, 'the reduction axes').map((a) => (a < 0 ? a + rank : a)))].sort();
    let nchw = x.kind === 'runtime' && x.layout === 'nchw';
    if (nchw && !keep) {
      const remaining = [0, 1, 2, 3].filter((a) => !axes.includes(a));
      const physical = [...remaining].sort((a, b) => NHWC_TO_NCHW_AXIS[a]! - NHWC_TO_NCHW_AXIS[b]!);
      if (physical.some((a, i) => a !== remaining[i])) nchw = false;
    }
    const onnxAxes = nchw ? axes.map((a) => NHWC_TO_NCHW_AXIS[a]!) : axes;
    const input = nchw ? n.nchw(x) : n.native(x);
    const keepdims = { keepdims: { i: keep ? 1 : 0 } };
    const name =
      onnxOp === 'ReduceSum'
        ? n.emit(onnxOp, [input, n.ctx.int64s(`${n.name}/axes`, onnxAxes)], keepdims)
        : n.emit(onnxOp, [input], { ...keepdims, axes: { ints: onnxAxes } });
    const outRank = keep ? rank : rank - axes.length;
    return n.out(name, outRank, nchw && keep ? 'nchw' : 'native');
  };
}

export const reduceOps: Record<string, OpMapper> = {
  Mean: reduce('ReduceMean'),
  Sum: reduce('ReduceSum'),
  Max: reduce('ReduceMax'),
  Min: reduce('ReduceMin'),
  Prod: reduce('ReduceProd'),
};
