import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Proto = typeof onnxProto.onnx;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** ONNX element types used here (onnx.TensorProto.DataType). */
export type ElementType = 'float32' | 'int32' | 'int64';
const ELEMENT: Record<ElementType, number> = { float32: 1, int32: 6, int64: 7 };

/** An attribute value with its ONNX type spelled out: a JS number cannot say whether 0 is an int or a float. */
export type Attr = { i: number } | { ints: readonly number[] } | { f: number } | { s: string };
export type Attrs = Record<string, Attr>;

/** ONNX opset the converter targets; opset 13 is what ORT, onnx.js and every other runtime worth naming support. */
export const OPSET = 13;
/** IR version 7 is the one that goes with opset 13. */
const IR_VERSION = 7;

function attributeProto(name: string, a: Attr): AttributeProto {
  const T = (onnx as Proto).AttributeProto.AttributeType;
  if ('i' in a) return { name, type: T.INT, i: a.i };
  if ('ints' in a) return { name, type: T.INTS, ints: [...a.ints] };
  if ('f' in a) return { name, type: T.FLOAT, f: a.f };
  return { name, type: T.STRING, s: Buffer.from(a.s, 'utf8') };
}

/** A graph under construction: nodes in execution order, initializers, typed inputs and outputs. */
export class OnnxGraph {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();

  /** A name not used yet in this graph, derived from `hint`. */
  uniqueName(hint: string): string {
    let name = hint;
    for (let i = 1; this.names.has(name); i++) name = `${hint}_${i}`;
    this.names.add(name);
    return name;
  }

  addNode(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Attrs = {}, name?: string): void {
    this.nodes.push({
      opType,
      input: [...inputs],
      output: [...outputs],
      name: name ?? outputs[0] ?? opType,
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
  }

  addInitializer(name: string, type: ElementType, dims: readonly number[], data: Float32Array | Int32Array | BigInt64Array): void {
    this.initializers.push({
      name,
      dataType: ELEMENT[type],
      dims: [...dims],
      // raw_data is little-endian by the ONNX spec; every platform Node runs on here is little-endian.
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
  }

  /** `dims` entries that are strings become symbolic dimensions (e.g. the batch size). */
  addInput(name: string, type: ElementType, dims: readonly (number | string)[]): void {
    this.inputs.push(valueInfo(name, type, dims));
  }

  addOutput(name: string, type: ElementType, dims?: readonly (number | string)[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  encode(meta: { graphName: string; producerVersion: string; docString: string; metadata: Record<string, string> }): Uint8Array {
    const model = (onnx as Proto).ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: '@warden/models',
      producerVersion: meta.producerVersion,
      docString: meta.docString,
      graph: {
        name: meta.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(meta.metadata).map(([key, value]) => ({ key, value })),
    });
    return (onnx as Proto).ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: ElementType, dims?: readonly (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT[type],
        shape: dims === undefined ? null : { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}
