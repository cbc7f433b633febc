import { ConvertError } from './errors.ts';
import type { TfAttrValue, TfNode } from './tfjs-model.ts';

/** `name:1` -> `name`, `^name` (control dependency) -> `name`. */
export function nodeNameOf(input: string): string {
  const bare = input.startsWith('^') ? input.slice(1) : input;
  const colon = bare.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(bare.slice(colon + 1)) ? bare.slice(0, colon) : bare;
}

/** Output index of a data input (`name:2` -> 2). */
export function outputIndexOf(input: string): number {
  const colon = input.lastIndexOf(':');
  const tail = colon > 0 ? input.slice(colon + 1) : '';
  return /^\d+$/.test(tail) ? Number(tail) : 0;
}

/** Data inputs only: control dependencies (`^x`) order execution in TF but carry no tensor. */
export function dataInputs(node: TfNode): string[] {
  return (node.input ?? []).filter((i) => !i.startsWith('^'));
}

/**
 * The nodes the outputs depend on, dependencies first. The node list in a TFJS model.json is not in
 * topological order, and it may hold nodes no output needs; both are handled here.
 */
export function topologicalOrder(nodes: readonly TfNode[], outputs: readonly string[]): TfNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: TfNode[] = [];
  for (const out of outputs) {
    if (!byName.has(out)) throw new ConvertError(`output "${out}" is not a node of the graph`);
    // Iterative DFS: face graphs are a few hundred nodes deep in a chain, recursion would be fine, a stack is safer.
    const stack: { node: TfNode; next: number }[] = [];
    const push = (name: string, from: string) => {
      const node = byName.get(name);
      if (!node) throw new ConvertError(`input "${name}" does not exist`, from);
      const s = state.get(name);
      if (s === 'done') return;
      if (s === 'visiting') throw new ConvertError(`graph has a cycle through "${name}"`, from);
      state.set(name, 'visiting');
      stack.push({ node, next: 0 });
    };
    push(out, out);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const inputs = top.node.input ?? [];
      if (top.next < inputs.length) {
        push(nodeNameOf(inputs[top.next++]!), top.node.name);
      } else {
        stack.pop();
        state.set(top.node.name, 'done');
        order.push(top.node);
      }
    }
  }
  return order;
}

/** Typed readers for the protobuf-as-JSON attributes of a node. */
export class Attrs {
  constructor(private readonly node: TfNode) {}

  private get(name: string): TfAttrValue | undefined {
    return this.node.attr?.[name];
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  string(name: string, fallback?: string): string {
    const v = this.get(name)?.s;
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ConvertError(`missing string attribute "${name}"`, this.node.name);
    }
    return Buffer.from(v, 'base64').toString('utf8');
  }

  strings(name: string): string[] {
    return (this.get(name)?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
  }

  ints(name: string, fallback?: number[]): number[] {
    const list = this.get(name)?.list;
    if (list === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ConvertError(`missing int list attribute "${name}"`, this.node.name);
    }
    return (list.i ?? []).map(Number);
  }

  int(name: string, fallback?: number): number {
    const v = this.get(name)?.i;
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ConvertError(`missing int attribute "${name}"`, this.node.name);
    }
    return Number(v);
  }

  float(name: string, fallback: number): number {
    return this.get(name)?.f ?? fallback;
  }

  bool(name: string, fallback = false): boolean {
    return this.get(name)?.b ?? fallback;
  }

  /** Shape of a Placeholder; -1 marks an unknown dimension. */
  shape(name: string): number[] | undefined {
    const v = this.get(name)?.shape;
    if (!v || v.unknownRank) return undefined;
    return (v.dim ?? []).map((d) => Number(d.size));
  }
}
