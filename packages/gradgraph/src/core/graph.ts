/** Anything with inputs: scalar `Value`s, tensors, compiled expression nodes. */
export interface GraphNode {
  readonly inputs: readonly GraphNode[];
  /**
   * Scratch mark for graph walks (the walk's epoch). Node classes declare it as a number field initialised
   * to 0 so that a walk marks nodes in place instead of hashing them into a Set.
   */
  topoMark?: number;
}

let epoch = 0;

/**
 * Topological order of the graph that ends at `roots` (inputs before the nodes that use them), computed
 * iteratively with an explicit stack: a chain of millions of nodes cannot overflow the call stack.
 */
export function topoOrder<N extends GraphNode>(roots: N | readonly N[]): N[] {
  const starts = (Array.isArray(roots) ? roots : [roots]) as readonly N[];
  const mark = ++epoch;
  const order: N[] = [];
  // Each stack frame is a node and the index of the next input to visit.
  const nodes: N[] = [];
  const next: number[] = [];
  for (const root of starts) {
    if (root.topoMark === mark) continue;
    root.topoMark = mark;
    nodes.push(root);
    next.push(0);
    while (nodes.length > 0) {
      const top = nodes.length - 1;
      const node = nodes[top]!;
      const i = next[top]!;
      if (i < node.inputs.length) {
        next[top] = i + 1;
        const child = node.inputs[i] as N;
        if (child.topoMark !== mark) {
          child.topoMark = mark;
          nodes.push(child);
          next.push(0);
        }
      } else {
        nodes.pop();
        next.pop();
        order.push(node);
      }
    }
  }
  return order;
}
