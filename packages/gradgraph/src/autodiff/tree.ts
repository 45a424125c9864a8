/**
 * Trees of tensors ("pytrees", as JAX calls them): the functional transforms take and return nested plain objects
 * and arrays whose leaves are tensors — a model's parameters `{ w1, b1, w2, b2 }`, a list of layers, a tuple of
 * inputs. A tree is flattened to its tensor leaves (in a fixed order: arrays by index, objects by key order) and
 * rebuilt with the same structure.
 *
 * - Containers: arrays and plain objects (made by `{}` / `Object.create(null)`).
 * - Leaves: tensors.
 * - Anything else that is not an object (numbers, strings, booleans, null, undefined) is *static*: carried through
 *   unchanged, never differentiated; in a gradient tree its place holds `null`.
 * - Other objects (class instances, functions, Maps) cannot be looked into and are an error where a tree is
 *   differentiated: pass their tensors as a plain object or array (e.g. `model.parameters()`).
 */
import { InputError } from "../core/errors.js";
import { describe, expectFunction, isPlainObject } from "../core/expect.js";
import { formatShape } from "../ops/shape.js";
import { Tensor } from "../tensor/tensor.js";

/** A tree of tensors: tensors, static values, and arrays and plain objects of trees. */
export type Tree = Tensor | number | string | boolean | null | undefined | readonly Tree[] | { readonly [key: string]: Tree };

/**
 * The gradient (or tangent, or Jacobian block) of a tree: the same structure with a tensor for every tensor, and
 * `null` for every static value.
 */
export type GradTree<T> = T extends Tensor
  ? Tensor
  : T extends readonly unknown[]
    ? { -readonly [K in keyof T]: GradTree<T[K]> }
    : T extends (...args: never[]) => unknown
      ? null
      : T extends object
        ? { -readonly [K in keyof T]: GradTree<T[K]> }
        : null;

/**
 * What a caller gives as a tangent or cotangent of a tree: the same structure with a tensor (or a number, filled
 * to the leaf's shape, or null for zero) for every tensor; anything at static places.
 */
export type TangentTree<T> = T extends Tensor
  ? Tensor | number | null
  : T extends readonly unknown[]
    ? { readonly [K in keyof T]: TangentTree<T[K]> }
    : T extends object
      ? { readonly [K in keyof T]: TangentTree<T[K]> }
      : unknown;

/** The shape of a tree without its leaves. */
export type TreeSpec =
  | { readonly kind: "leaf" }
  | { readonly kind: "static"; readonly value: unknown }
  | { readonly kind: "array"; readonly items: readonly TreeSpec[] }
  | { readonly kind: "object"; readonly keys: readonly string[]; readonly items: readonly TreeSpec[] };

/** A flattened tree: its tensor leaves in order, their paths (`[0].w`) and the structure to rebuild it. */
export interface FlatTree {
  readonly leaves: Tensor[];
  readonly paths: string[];
  readonly spec: TreeSpec;
}

/**
 * Flattens a tree. `where` names the tree in errors (`grad: argument 0`).
 *
 * @example
 * const { leaves, paths } = flattenTree({ w: ones([2]), b: [zeros([1]), 3] });
 * paths; // [".w", ".b[0]"]   (3 is static)
 */
export function flattenTree(tree: unknown, where = "tree"): FlatTree {
  const leaves: Tensor[] = [];
  const paths: string[] = [];
  const seen = new Set<object>();
  const walk = (x: unknown, path: string): TreeSpec => {
    if (x instanceof Tensor) {
      leaves.push(x);
      paths.push(path);
      return { kind: "leaf" };
    }
    if (x === null || (typeof x !== "object" && typeof x !== "function")) return { kind: "static", value: x };
    if (!Array.isArray(x) && (typeof x === "function" || !isPlainObject(x))) {
      throw new InputError(
        `${where}: cannot look inside ${describe(x)}${path ? ` at ${path}` : ""}: a tree holds tensors in plain objects and arrays ` +
          "(pass the tensors themselves, e.g. model.parameters())",
      );
    }
    if (seen.has(x)) throw new InputError(`${where}: the tree contains itself${path ? ` at ${path}` : ""}`);
    seen.add(x);
    let spec: TreeSpec;
    if (Array.isArray(x)) spec = { kind: "array", items: x.map((v, i) => walk(v, `${path}[${i}]`)) };
    else {
      const keys = Object.keys(x);
      spec = { kind: "object", keys, items: keys.map((k) => walk((x as Record<string, unknown>)[k], `${path}.${k}`)) };
    }
    seen.delete(x);
    return spec;
  };
  const spec = walk(tree, "");
  return { leaves, paths, spec };
}

/**
 * Rebuilds a tree of `spec`'s structure with `leaves` in place of its tensors, in order; static places get
 * `staticAs(value)` (default: the value itself).
 */
export function unflattenTree(spec: TreeSpec, leaves: readonly unknown[], staticAs: (v: unknown) => unknown = (v) => v): unknown {
  let k = 0;
  const build = (s: TreeSpec): unknown => {
    switch (s.kind) {
      case "leaf":
        return leaves[k++];
      case "static":
        return staticAs(s.value);
      case "array":
        return s.items.map(build);
      case "object": {
        const out: Record<string, unknown> = {};
        s.keys.forEach((key, i) => (out[key] = build(s.items[i]!)));
        return out;
      }
      default: {
        const never: never = s;
        throw new Error(`unknown tree node ${JSON.stringify(never)}`);
      }
    }
  };
  const out = build(spec);
  if (k !== leaves.length) throw new Error(`unflattenTree: ${leaves.length} leaves for a tree of ${k}`);
  return out;
}

/**
 * The values of `other` at the leaves of `spec` (a tangent or cotangent given for a tree): `other` must have the
 * same containers wherever `spec` has tensors; at a leaf it may hold a tensor, a number or null (zero). Static
 * places are not looked at. `where` names it in errors.
 */
export function leavesLike(spec: TreeSpec, other: unknown, where: string): (Tensor | number | null)[] {
  const out: (Tensor | number | null)[] = [];
  const walk = (s: TreeSpec, x: unknown, path: string): void => {
    switch (s.kind) {
      case "leaf":
        if (x instanceof Tensor || typeof x === "number") out.push(x);
        else if (x === null || x === undefined) out.push(null);
        else throw new InputError(`${where}${path ? ` at ${path}` : ""}: expected a tensor (or a number, or null for zero), got ${describe(x)}`);
        return;
      case "static":
        return;
      case "array":
        if (!Array.isArray(x) || x.length !== s.items.length) {
          throw new InputError(`${where}${path ? ` at ${path}` : ""}: expected an array of ${s.items.length}, like the primal, got ${describe(x)}`);
        }
        s.items.forEach((item, i) => walk(item, x[i], `${path}[${i}]`));
        return;
      case "object":
        if (x === null || typeof x !== "object" || Array.isArray(x)) {
          throw new InputError(`${where}${path ? ` at ${path}` : ""}: expected an object with keys ${s.keys.join(", ")}, like the primal, got ${describe(x)}`);
        }
        {
          const own = Object.keys(x);
          const keys = `${s.keys.length === 1 ? "key" : "keys"} ${s.keys.join(", ") || "(none)"}`;
          const extra = own.filter((k) => !s.keys.includes(k));
          if (extra.length > 0) {
            throw new InputError(
              `${where} has ${extra.length === 1 ? "key" : "keys"} ${extra.join(", ")}${path ? ` at ${path}` : ""} where the primal has ${keys}: give the primal's structure`,
            );
          }
          const missing = s.keys.filter((k) => !own.includes(k));
          if (missing.length > 0) {
            throw new InputError(
              `${where} is missing ${missing.map((k) => `${path}.${k}`).join(", ")}: the primal has ${keys}${path ? ` at ${path}` : ""} (give null for a zero)`,
            );
          }
        }
        s.keys.forEach((key, i) => walk(s.items[i]!, (x as Record<string, unknown>)[key], `${path}.${key}`));
        return;
      default: {
        const never: never = s;
        throw new Error(`unknown tree node ${JSON.stringify(never)}`);
      }
    }
  };
  walk(spec, other, "");
  return out;
}

/**
 * A tree with `fn` applied to every tensor leaf (static values kept).
 *
 * @example
 * mapTree({ w: ones([2]), n: 3 }, (t) => t.mul(2)); // { w: tensor([2, 2]), n: 3 }
 */
export function mapTree<T>(tree: T, fn: (leaf: Tensor, path: string) => Tensor): T {
  expectFunction(fn, "mapTree");
  const { leaves, paths, spec } = flattenTree(tree, "mapTree");
  return unflattenTree(spec, leaves.map((x, i) => fn(x, paths[i]!))) as T;
}

/** The tensor leaves of a tree, in order. */
export function treeLeaves(tree: unknown): Tensor[] {
  return flattenTree(tree, "treeLeaves").leaves;
}

/** A tangent/cotangent leaf as a tensor of the primal's shape and dtype (numbers are filled in; null stays). */
export function leafTensor(x: Tensor | number | null, like: Tensor, where: string, path: string): Tensor | null {
  if (x === null) return null;
  if (typeof x === "number") {
    return Tensor.from(x).cast(like.dtype).broadcastTo(like.shape);
  }
  const s = x.shape, t = like.shape;
  if (s.length !== t.length || s.some((d, i) => d !== t[i])) {
    throw new InputError(`${where}${path ? ` at ${path}` : ""}: shape ${formatShape(s)} does not match the primal's shape ${formatShape(t)}`);
  }
  return x;
}
