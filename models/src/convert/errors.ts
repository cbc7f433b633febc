/** Every conversion failure is a ConvertError, so callers can tell "this model cannot be converted" from a crash. */
export class ConvertError extends Error {
  override readonly name: string = 'ConvertError';
  constructor(message: string, readonly node?: string) {
    super(node === undefined ? message : `${message} (node "${node}")`);
  }
}

/** A TF op that has no mapping to ONNX yet: names the op and the node so the fix is obvious. */
export class UnsupportedOpError extends ConvertError {
  override readonly name = 'UnsupportedOpError';
  constructor(readonly op: string, node: string, supported: readonly string[]) {
    super(`unsupported TF op "${op}"; supported ops: ${[...supported].sort().join(', ')}`, node);
  }
}
