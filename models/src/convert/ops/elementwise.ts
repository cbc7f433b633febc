import { rankOf } from '../context.ts';
import type { NodeContext, OpMapper } from '../context.ts';

/** Broadcasting binary ops. TF and ONNX broadcast the same (numpy rules), so only the layout needs care. */
function binary(build: (n: NodeContext, a: string, b: string) => string): OpMapper {
  return (n) => {
    const a = n.input(0);
    const b = n.input(1);
    const layout = n.broadcastLayout([a, b]);
    const name = build(n, n.inLayout(a, layout), n.inLayout(b, layout));
    return n.out(name, Math.max(rankOf(a), rankOf(b)), layout);
  };
}

const simple = (onnxOp: string): OpMapper => binary((n, a, b) => n.emit(onnxOp, [a, b]));

export const elementwiseOps: Record<string, OpMapper> = {
  Add: simple('Add'),
  AddV2: simple('Add'),
  BiasAdd: (n) => {
    if (n.attrs.string('data_format', 'NHWC') !== 'NHWC') n.fail('only NHWC data_format is supported');
    return simple('Add')(n);
  },
  Sub: simple('Sub'),
  Mul: simple('Mul'),
  RealDiv: simple('Div'),
  Div: simple('Div'),
  Maximum: simple('Max'),
  Minimum: simple('Min'),
  Pow: simple('Pow'),
  SquaredDifference: binary((n, a, b) => {
    const d = n.emit('Sub', [a, b], {}, 'diff');
    return n.emit('Mul', [d, d]);
  }),
  /** AddN of any arity: a chain of Adds in input order, as TF sums them. */
  AddN: (n) => {
    const layout = n.broadcastLayout(n.inputs);
    let acc = n.inLayout(n.input(0), layout);
    for (let i = 1; i < n.inputs.length; i++) acc = n.emit('Add', [acc, n.inLayout(n.input(i), layout)], {}, i === n.inputs.length - 1 ? undefined : `add${i}`);
    return n.out(acc, Math.max(...n.inputs.map(rankOf)), layout);
  },
};
