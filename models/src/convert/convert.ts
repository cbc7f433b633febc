import { ConversionContext, NodeContext } from './context.ts';
import type { Value } from './context.ts';
import { ConvertError, UnsupportedOpError } from './errors.ts';
import { Attrs, dataInputs, nodeNameOf, outputIndexOf, topologicalOrder } from './graph.ts';
import { OnnxGraph } from './onnx-writer.ts';
import { OP_MAPPERS, SUPPORTED_OPS } from './ops/index.ts';
import type { ConstTensor, GraphModelJson, TfNode } from './tfjs-model.ts';

/** Bump when a mapping changes what the converter writes: it is stamped into every model and invalidates built files. */
export const CONVERTER_VERSION = '1.0.0';

export interface ConvertOptions {
  /** ONNX names for graph inputs, keyed by Placeholder node name (default: the node name). */
  inputNames?: Record<string, string>;
  /**
   * Outputs as [TF node name, ONNX output name]. Default: the signature's outputs if the model has one,
   * else every node nothing consumes; each named after its node.
   */
  outputs?: readonly (readonly [string, string])[];
  graphName?: string;
  docString?: string;
  /** Written into the model's metadata_props (provenance). */
  metadata?: Record<string, string>;
}

export interface ConvertResult {
  bytes: Uint8Array;
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: string[];
  /** How many TF nodes of each op were converted (Const and Placeholder included). */
  tfOps: Record<string, number>;
  onnxNodes: number;
}

/** The graph's outputs when the caller names none: the signature's, else the nodes nothing consumes. */
export function defaultOutputs(json: GraphModelJson): string[] {
  const sig = json.signature?.outputs;
  if (sig && Object.keys(sig).length > 0) return Object.values(sig).map((o) => nodeNameOf(o.name));
  const consumed = new Set(json.modelTopology.node.flatMap((n) => (n.input ?? []).map(nodeNameOf)));
  return json.modelTopology.node.filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'Placeholder').map((n) => n.name);
}

/**
 * Converts a TFJS graph model to an ONNX ModelProto (opset 13). Inputs and outputs keep TF's NHWC layout,
 * so callers feed ONNX Runtime exactly what they fed TFJS.
 */
export function convertGraphModel(json: GraphModelJson, weights: ReadonlyMap<string, ConstTensor>, options: ConvertOptions = {}): ConvertResult {
  const outputs = options.outputs ?? defaultOutputs(json).map((name) => [name, name] as const);
  if (outputs.length === 0) throw new ConvertError('the graph has no outputs');
  const order = topologicalOrder(json.modelTopology.node, outputs.map(([tf]) => tf));

  // Fail before writing anything, naming the first op that has no mapping.
  for (const node of order) {
    if (!SUPPORTED_OPS.includes(node.op)) throw new UnsupportedOpError(node.op, node.name, SUPPORTED_OPS);
  }

  const graph = new OnnxGraph();
  // Reserve the output names first so no intermediate value takes one (TF names are reused for intermediates).
  for (const [, name] of outputs) {
    if (graph.uniqueName(name) !== name) throw new ConvertError(`output name "${name}" is given twice`);
  }
  const ctx = new ConversionContext(graph);
  const inputs: ConvertResult['inputs'] = [];
  const tfOps: Record<string, number> = {};

  for (const node of order) {
    tfOps[node.op] = (tfOps[node.op] ?? 0) + 1;
    ctx.values.set(node.name, convertNode(node, ctx, weights, options, inputs));
  }

  for (const [tf, name] of outputs) {
    const v = ctx.values.get(tf)!;
    if (v.kind === 'const') throw new ConvertError(`output "${tf}" is a constant`, tf);
    graph.addNode('Identity', [ctx.native(v)], [name]);
    graph.addOutput(name, 'float32');
  }

  const bytes = graph.encode({
    graphName: options.graphName ?? 'tfjs_graph',
    producerVersion: CONVERTER_VERSION,
    docString: options.docString ?? '',
    metadata: { converter: `@warden/models tfjs-to-onnx ${CONVERTER_VERSION}`, ...options.metadata },
  });
  return { bytes, inputs, outputs: outputs.map(([, name]) => name), tfOps, onnxNodes: graph.nodeCount };
}

function convertNode(node: TfNode, ctx: ConversionContext, weights: ReadonlyMap<string, ConstTensor>, options: ConvertOptions, inputs: ConvertResult['inputs']): Value {
  if (node.op === 'Const') {
    const w = weights.get(node.name);
    if (!w) throw new ConvertError('constant has no data in the weights manifest', node.name);
    return { kind: 'const', name: node.name, ...w };
  }
  if (node.op === 'Placeholder') {
    const shape = new Attrs(node).shape('shape');
    if (!shape) throw new ConvertError('input of unknown rank', node.name);
    const name = options.inputNames?.[node.name] ?? node.name;
    const dims = shape.map((d, i) => (d >= 0 ? d : i === 0 ? 'batch' : `${name}_dim${i}`));
    if (ctx.graph.uniqueName(name) !== name) throw new ConvertError(`input name "${name}" is already taken`, node.name);
    ctx.graph.addInput(name, 'float32', dims);
    inputs.push({ name, shape: dims });
    return { kind: 'runtime', name, rank: shape.length, layout: 'native' };
  }
  const values = dataInputs(node).map((input) => {
    if (outputIndexOf(input) !== 0) throw new ConvertError(`input "${input}" is a secondary output; multi-output ops are not supported`, node.name);
    return ctx.values.get(nodeNameOf(input))!;
  });
  return OP_MAPPERS[node.op]!(new NodeContext(node, values, ctx));
}
