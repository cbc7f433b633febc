import type { OpMapper } from '../context.ts';
import { activationOps } from './activation.ts';
import { convOps } from './conv.ts';
import { elementwiseOps } from './elementwise.ts';
import { matmulOps } from './matmul.ts';
import { poolOps } from './pool.ts';
import { reduceOps } from './reduce.ts';
import { shapeOps } from './shape.ts';

/** Every TF op the converter maps, by op name; Const and Placeholder are handled by the converter itself. */
export const OP_MAPPERS: Readonly<Record<string, OpMapper>> = Object.freeze({
  ...activationOps,
  ...convOps,
  ...elementwiseOps,
  ...matmulOps,
  ...poolOps,
  ...reduceOps,
  ...shapeOps,
});

export const SUPPORTED_OPS: readonly string[] = Object.freeze([...Object.keys(OP_MAPPERS), 'Const', 'Placeholder']);
