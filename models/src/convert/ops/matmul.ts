import type { OpMapper } from '../context.ts';
import { applyActivation } from './activation.ts';

/** MatMul and grappler's _FusedMatMul (MatMul + BiasAdd + activation) as ONNX Gemm, which takes both transposes and the bias. */
function matmul(fused: boolean): OpMapper {
  return (n) => {
    const a = n.input(0);
    const b = n.input(1);
    const transA = n.attrs.bool('transpose_a');
    const transB = n.attrs.bool('transpose_b');
    const inputs = [n.native(a), n.native(b)];
    const fusedOps = fused ? n.attrs.strings('fused_ops') : [];
    let rest = fusedOps;
    if (fusedOps[0] === 'BiasAdd') {
      inputs.push(n.native(n.input(2)));
      rest = fusedOps.slice(1);
    } else if (fusedOps.length > 0) {
      n.fail(`fused ops ${JSON.stringify(fusedOps)} are not supported (expected BiasAdd first)`);
    }
    if (rest.length > 1) n.fail(`fused ops ${JSON.stringify(fusedOps)}: at most one activation after BiasAdd`);
    let y = n.emit('Gemm', inputs, { transA: { i: transA ? 1 : 0 }, transB: { i: transB ? 1 : 0 } }, rest.length > 0 ? 'gemm' : undefined);
    if (rest[0] !== undefined) y = applyActivation(n, rest[0], y, 'native', n.inputs[3]);
    return n.out(y, 2, 'native');
  };
}

export const matmulOps: Record<string, OpMapper> = {
  MatMul: matmul(false),
  _FusedMatMul: matmul(true),
};
