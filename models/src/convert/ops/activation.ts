import type { NodeContext, OpMapper, Value } from '../context.ts';

/**
 * An activation applied to an ONNX value that keeps its layout. Shared by the plain activation ops and by
 * the activations fused into _FusedConv2D / _FusedMatMul (`extra` is the fused op's extra argument, PReLU's alpha).
 */
export function applyActivation(n: NodeContext, kind: string, x: string, layout: 'native' | 'nchw', extra?: Value): string {
  switch (kind) {
    case 'Relu':
      return n.emit('Relu', [x], {}, 'relu');
    case 'Relu6':
      return n.emit('Clip', [x, scalar(n, 0), scalar(n, 6)], {}, 'relu6');
    case 'Elu':
      return n.emit('Elu', [x], { alpha: { f: 1 } }, 'elu');
    case 'Selu':
      return n.emit('Selu', [x], {}, 'selu');
    case 'Sigmoid':
      return n.emit('Sigmoid', [x], {}, 'sigmoid');
    case 'Tanh':
      return n.emit('Tanh', [x], {}, 'tanh');
    case 'LeakyRelu':
      return n.emit('LeakyRelu', [x], { alpha: { f: n.attrs.float('leakyrelu_alpha', n.attrs.float('alpha', 0.2)) } }, 'leakyrelu');
    case 'Prelu': {
      if (!extra) n.fail('Prelu needs an alpha input');
      return n.emit('PRelu', [x, n.inLayout(extra, layout)], {}, 'prelu');
    }
    default:
      return n.fail(`activation "${kind}" is not supported`);
  }
}

function scalar(n: NodeContext, v: number): string {
  return n.ctx.initializer(`${n.name}/clip${v}`, 'float32', [], Float32Array.of(v));
}

/** Ops of one input that are indifferent to layout: the result keeps the input's layout. */
function unary(build: (n: NodeContext, x: string) => string): OpMapper {
  return (n) => {
    const x = n.input(0);
    const layout = x.kind === 'runtime' ? x.layout : 'native';
    const name = build(n, layout === 'nchw' ? n.nchw(x) : n.native(x));
    return n.out(name, x.kind === 'runtime' ? x.rank : x.shape.length, layout);
  };
}

const simple = (onnxOp: string): OpMapper => unary((n, x) => n.emit(onnxOp, [x]));
const activation = (kind: string): OpMapper =>
  unary((n, x) => {
    const v = n.input(0);
    return applyActivation(n, kind, x, v.kind === 'runtime' ? v.layout : 'native', n.inputs[1]);
  });

export const activationOps: Record<string, OpMapper> = {
  Relu: activation('Relu'),
  Relu6: activation('Relu6'),
  Elu: activation('Elu'),
  Selu: activation('Selu'),
  Sigmoid: activation('Sigmoid'),
  Tanh: activation('Tanh'),
  LeakyRelu: activation('LeakyRelu'),
  Prelu: activation('Prelu'),
  Abs: simple('Abs'),
  Neg: simple('Neg'),
  Exp: simple('Exp'),
  Log: simple('Log'),
  Sqrt: simple('Sqrt'),
  Reciprocal: simple('Reciprocal'),
  Floor: simple('Floor'),
  Ceil: simple('Ceil'),
  Round: simple('Round'),
  // rsqrt(x) = 1 / sqrt(x); ONNX has no Rsqrt.
  Rsqrt: unary((n, x) => n.emit('Reciprocal', [n.emit('Sqrt', [x], {}, 'sqrt')])),
  Square: unary((n, x) => n.emit('Mul', [x, x])),
  /** TF Softmax works on the last axis; for an NCHW-stored 4-D tensor that axis is the channel axis, 1. */
  Softmax: (n) => {
    const x = n.input(0);
    const nchw = x.kind === 'runtime' && x.layout === 'nchw';
    const name = n.emit('Softmax', [nchw ? n.nchw(x) : n.native(x)], { axis: { i: nchw ? 1 : -1 } });
    return n.out(name, x.kind === 'runtime' ? x.rank : x.shape.length, nchw ? 'nchw' : 'native');
  },
};
