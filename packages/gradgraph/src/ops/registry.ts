/**
 * The one op table: every primitive, elementwise and tensor, by name. Engines look ops up here (or hold the
 * entry itself); none switches over names. The mapped types make tsc reject a name without an entry.
 */
import { convOps } from "./conv.js";
import { argOps } from "./argext.js";
import { elementwiseOps } from "./elementwise.js";
import { matmulOps } from "./matmul.js";
import { movementOps } from "./movement.js";
import type { AnyOp, OpName, TensorOp, TensorOpName } from "./op.js";
import { reduceOps } from "./reduce.js";
import { scanOps } from "./scan.js";
import { selectOps } from "./where.js";

/** The tensor primitives (reductions, movement, matmul, selection, cast). */
export const tensorOps: { readonly [K in TensorOpName]: TensorOp<K> } = {
  ...reduceOps,
  ...movementOps,
  ...matmulOps,
  ...selectOps,
  ...convOps,
  ...scanOps,
  ...argOps,
};

/** Every primitive of the table, elementwise and tensor. */
export const ops = { ...elementwiseOps, ...tensorOps } as const satisfies { readonly [K in OpName]: AnyOp };

/** Every primitive, in table order. */
export const opList: readonly AnyOp[] = Object.values(ops);

/** The tensor primitives, in table order. */
export const tensorOpList: readonly AnyOp[] = Object.values(tensorOps);
