import { ConvertError } from './errors.ts';
import { Attrs as TfAttrs } from './graph.ts';
import type { Attrs, ElementType, OnnxGraph } from './onnx-writer.ts';
import type { ConstTensor, TfNode } from './tfjs-model.ts';

/**
 * TF graphs are NHWC, ONNX Conv and pools are NCHW. Rather than wrapping every conv in a pair of
 * Transposes, a 4-D value carries its physical layout: `nchw` means "TF's NHWC tensor, stored transposed".
 * Layout-neutral ops (elementwise, activations) keep whatever layout they get, so a conv stack stays NCHW
 * end to end and a Transpose back appears only where an op needs TF's element order (Reshape, MatMul...).
 */
export interface RuntimeValue {
  kind: 'runtime';
  name: string;
  rank: number;
  layout: 'native' | 'nchw';
}
export interface ConstValue extends ConstTensor {
  kind: 'const';
  name: string;
}
export type Value = RuntimeValue | ConstValue;

/** NHWC axis -> position of that axis in NCHW. */
export const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1] as const;

export function rankOf(v: Value): number {
  return v.kind === 'runtime' ? v.rank : v.shape.length;
}

/** Transposes a dense row-major array. */
export function transposeData<T extends Float32Array | Int32Array>(data: T, shape: readonly number[], perm: readonly number[]): { data: T; shape: number[] } {
  const outShape = perm.map((p) => shape[p]!);
  const rank = shape.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  const out = new (data.constructor as { new (n: number): T })(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += index[d]! * inStrides[perm[d]!]!;
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < outShape[d]!) break;
      index[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** Graph-wide state: the ONNX graph being written, TF value -> ONNX value, and caches of layout conversions. */
export class ConversionContext {
  readonly values = new Map<string, Value>();
  private readonly nchwOf = new Map<string, string>();
  private readonly nativeOf = new Map<string, string>();
  private readonly constInits = new Map<string, string>();

  constructor(readonly graph: OnnxGraph) {}

  /** Adds a node with a fresh output name and returns that name. */
  emit(opType: string, inputs: readonly string[], attrs: Attrs = {}, hint = opType): string {
    const out = this.graph.uniqueName(hint);
    this.graph.addNode(opType, inputs, [out], attrs);
    return out;
  }

  initializer(hint: string, type: ElementType, dims: readonly number[], data: Float32Array | Int32Array | BigInt64Array): string {
    const name = this.graph.uniqueName(hint);
    this.graph.addInitializer(name, type, dims, data);
    return name;
  }

  int64s(hint: string, values: readonly number[]): string {
    return this.initializer(hint, 'int64', [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  /** The value in TF's own element order. */
  native(v: Value): string {
    if (v.kind === 'const') return this.constInit(v, 'native', v.shape, v.data);
    if (v.layout === 'native') return v.name;
    let name = this.nativeOf.get(v.name);
    if (!name) {
      name = this.emit('Transpose', [v.name], { perm: { ints: [0, 2, 3, 1] } }, `${v.name}/nhwc`);
      this.nativeOf.set(v.name, name);
    }
    return name;
  }

  /** The value as NCHW; constants of lower rank are first broadcast-aligned to 4-D as TF would (1s on the left). */
  nchw(v: Value, node: string): string {
    if (v.kind === 'const') {
      if (v.shape.length > 4) throw new ConvertError(`constant "${v.name}" of rank ${v.shape.length} cannot meet a 4-D tensor`, node);
      const shape4 = [...new Array<number>(4 - v.shape.length).fill(1), ...v.shape];
      const t = transposeData(v.data, shape4, [0, 3, 1, 2]);
      return this.constInit(v, 'nchw', t.shape, t.data);
    }
    if (v.rank !== 4) throw new ConvertError(`expected a 4-D tensor, "${v.name}" has rank ${v.rank}`, node);
    if (v.layout === 'nchw') return v.name;
    let name = this.nchwOf.get(v.name);
    if (!name) {
      name = this.emit('Transpose', [v.name], { perm: { ints: [0, 3, 1, 2] } }, `${v.name}/nchw`);
      this.nchwOf.set(v.name, name);
    }
    return name;
  }

  private constInit(v: ConstValue, variant: string, dims: readonly number[], data: Float32Array | Int32Array): string {
    const key = `${v.name}\u0000${variant}`;
    let name = this.constInits.get(key);
    if (!name) {
      name = this.initializer(variant === 'native' ? v.name : `${v.name}/${variant}`, v.dtype, dims, data);
      this.constInits.set(key, name);
    }
    return name;
  }
}

/** What an op mapper sees: its node, typed attributes, its inputs as values, and the graph context. */
export class NodeContext {
  readonly attrs: TfAttrs;

  constructor(
    readonly node: TfNode,
    readonly inputs: readonly Value[],
    readonly ctx: ConversionContext,
  ) {
    this.attrs = new TfAttrs(node);
  }

  get name(): string {
    return this.node.name;
  }

  input(i: number): Value {
    const v = this.inputs[i];
    if (!v) throw new ConvertError(`${this.node.op} needs input ${i}, node has ${this.inputs.length}`, this.name);
    return v;
  }

  /** An input that must be a constant known at conversion time (filters, shapes, axes, paddings). */
  constant(i: number, what: string): ConstValue {
    const v = this.input(i);
    if (v.kind !== 'const') throw new ConvertError(`${this.node.op}: ${what} must be a constant, got a computed tensor`, this.name);
    return v;
  }

  fail(message: string): never {
    throw new ConvertError(`${this.node.op}: ${message}`, this.name);
  }

  emit(opType: string, inputs: readonly string[], attrs: Attrs = {}, suffix?: string): string {
    return this.ctx.emit(opType, inputs, attrs, suffix ? `${this.name}/${suffix}` : this.name);
  }

  out(name: string, rank: number, layout: 'native' | 'nchw'): RuntimeValue {
    return { kind: 'runtime', name, rank, layout };
  }

  native(v: Value): string {
    return this.ctx.native(v);
  }

  nchw(v: Value): string {
    return this.ctx.nchw(v, this.name);
  }

  /**
   * Layout for an op whose inputs broadcast together: NCHW when a 4-D input already is NCHW and every
   * other input can follow (constants can be permuted; runtime tensors of lower rank cannot), else native.
   */
  broadcastLayout(values: readonly Value[]): 'native' | 'nchw' {
    const rank = Math.max(...values.map(rankOf));
    if (rank !== 4) return 'native';
    if (!values.some((v) => v.kind === 'runtime' && v.layout === 'nchw')) return 'native';
    return values.every((v) => v.kind === 'const' || v.rank === 4) ? 'nchw' : 'native';
  }

  inLayout(v: Value, layout: 'native' | 'nchw'): string {
    return layout === 'nchw' ? this.nchw(v) : this.native(v);
  }

  /** Integer contents of a constant input (axes, shapes, paddings). */
  ints(i: number, what: string): number[] {
    const c = this.constant(i, what);
    return Array.from(c.data, Number);
  }
}

export type OpMapper = (n: NodeContext) => Value;
