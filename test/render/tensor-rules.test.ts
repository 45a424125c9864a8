import { describe, expect, it } from "vitest";
import { compileTensor, parseBindings, parseProgram, tensorFunctions } from "../../packages/gradgraph/src/lang/index.js";
import { elementwiseList } from "../../packages/gradgraph/src/ops/elementwise.js";
import { describeTensorGraph } from "../../packages/gradgraph/src/render/tensor.js";

/** The board rule of every node with a gradient, by name, for `expr` at the `--at` texts. */
function rules(expr: string, ...at: string[]): Record<string, string | null> {
  const program = parseProgram(expr, { functions: tensorFunctions });
  const g = compileTensor(program, parseBindings(at, program), { dtype: "float64" });
  const view = describeTensorGraph(g.root, g.inputs, g.output === undefined ? {} : { rootName: g.output });
  return Object.fromEntries(view.nodes.filter((n) => n.rule !== null).map((n) => [n.name, n.rule]));
}

describe("vector rules, derived from the ops' vjp rules", () => {
  it("a layer W x + b with x a vector: ∇W = ∇a @ xᵀ (an outer product), ∇x = Wᵀ @ ∇a", () => {
    const r = rules("L = sum(tanh(W @ x + b))", "W=[[1,2,3],[4,5,6]]", "x=[1,0,-1]", "b=[0.5,1]");
    expect(r.W).toBe("∇a @ xᵀ");
    expect(r.x).toBe("Wᵀ @ ∇a");
    expect(r.b).toBe("∇c");
    expect(r.c).toBe("(1 - d^2)*∇d");
    expect(r.L).toBe("1");
  });

  it("a minibatch X @ W + b: ∇X = ∇a @ Wᵀ, ∇W = Xᵀ @ ∇a, and the broadcast bias sums over the batch", () => {
    const r = rules("T = X @ W + b", "X=[[1,2],[3,4],[5,6]]", "W=[[1,0,1],[0,1,1]]", "b=[1,2,3]");
    expect(r).toEqual({ T: "ones([3,3])", a: "∇T", b: "sum(∇T, axis=0)", W: "Xᵀ @ ∇a", X: "∇a @ Wᵀ" });
  });

  it("the lecture's minibatch df: dy = -(column sums of dR), powers folded (2*c), ReLU as max's own partial", () => {
    const r = rules("T = (max(X @ W, 0) - y)^2 + z", "X=[[1,2],[3,4]]", "W=[[1,-1],[0.5,2]]", "y=[1,2]", "z=[0,1]");
    expect(r.y).toBe("sum(-1*∇c, axis=0)");
    expect(r.z).toBe("sum(∇T, axis=0)");
    expect(r.c).toBe("2*c*∇d");
    expect(r.a).toBe("((a>0) + 0.5*(a==0))*∇b");
  });

  it("a value used twice adds its shares; a reduction's rule broadcasts the gradient back", () => {
    const r = rules("L = sum(x * x, axis=0)", "x=[[1,2],[3,4]]");
    expect(r.x).toBe("x*∇a + x*∇a");
    expect(r.a).toBe("broadcastTo(∇L, [2, 2])");
  });

  it("a transpose's rule is the transpose of the gradient", () => {
    const r = rules("L = sum(transpose(X) @ Y)", "X=[[1,2],[3,4]]", "Y=[[1,0],[0,1]]");
    expect(r.X).toBe("∇aᵀ");
    expect(r.a).toBe("∇b @ Yᵀ");
    expect(r.Y).toBe("aᵀ @ ∇b");
  });
});

describe("NumPy names in the op table", () => {
  it("every elementwise op printed as a call names its NumPy function", () => {
    for (const op of elementwiseList) if (op.print.kind === "call") expect(op.print.numpy?.name, op.name).toBeTruthy();
  });
});
