// The Hessian of a potential energy: three atoms in a plane joined by springs. At the equilibrium (an equilateral
// triangle) its eigenvalues are the squared vibration frequencies (unit masses): three zeros for the rigid
// motions (two translations, one rotation) and the molecule's three modes: 3k/2 twice and 3k (the breathing mode).
//
//   node examples/physics-hessian.mjs
import { grad, hessian, tensor } from "gradgraph";

const K = 2.0, REST = 1.0;
// Each bond's vector is (atom i − atom j): the rows of this matrix times the positions [3 atoms, 2 coordinates].
const BONDS = tensor([[1, -1, 0], [1, 0, -1], [0, 1, -1]], { dtype: "float64" });

/** Spring energy Σ k/2 (|pᵢ − pⱼ| − rest)² over the three bonds; positions [3, 2]. */
const energy = (p) => BONDS.matmul(p).square().sum(-1).sqrt().sub(REST).square().sum().mul(K / 2);

const h = 3 ** 0.5 / 2;
const equilibrium = tensor([[0, 0], [1, 0], [0.5, h]], { dtype: "float64" });
const bent = tensor([[0.1, -0.05], [1.2, 0.1], [0.4, 0.8]], { dtype: "float64" });

// hessian(f)(p) has shape [...p.shape, ...p.shape] = [3, 2, 3, 2]; as a 6 × 6 matrix:
const H = (p) => hessian(energy)(p).reshape([6, 6]);

// Check against central differences of the gradient, away from equilibrium (where every term matters).
const eps = 1e-5;
const exact = H(bent).toNested();
let worst = 0;
for (let j = 0; j < 6; j++) {
  const step = tensor(Array.from({ length: 6 }, (_, i) => (i === j ? eps : 0)), { dtype: "float64" }).reshape([3, 2]);
  const up = grad(energy)(bent.add(step)).toArray(), down = grad(energy)(bent.sub(step)).toArray();
  for (let i = 0; i < 6; i++) worst = Math.max(worst, Math.abs((up[i] - down[i]) / (2 * eps) - exact[i][j]));
}
console.log(`Hessian at a bent geometry vs central differences: max |difference| ${worst.toExponential(2)}`);

/** Eigenvalues of a symmetric matrix (cyclic Jacobi rotations), ascending. */
function eigenvalues(m) {
  const a = m.map((row) => [...row]), n = a.length;
  for (let sweep = 0; sweep < 50; sweep++) {
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-15) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) [a[k][p], a[k][q]] = [c * a[k][p] - s * a[k][q], s * a[k][p] + c * a[k][q]];
        for (let k = 0; k < n; k++) [a[p][k], a[q][k]] = [c * a[p][k] - s * a[q][k], s * a[p][k] + c * a[q][k]];
      }
    }
  }
  return a.map((row, i) => row[i]).sort((x, y) => x - y);
}

const Heq = H(equilibrium).toNested();
console.log("Hessian at equilibrium (x0 y0 x1 y1 x2 y2):");
for (const row of Heq) console.log("  " + row.map((v) => (Math.abs(v) < 1e-12 ? 0 : v).toFixed(3).padStart(7)).join(" "));
const eig = eigenvalues(Heq);
const expected = [0, 0, 0, 1.5 * K, 1.5 * K, 3 * K];
console.log(`eigenvalues: ${eig.map((v) => (Math.abs(v) < 1e-12 ? 0 : v).toFixed(6)).join(", ")}`);
console.log(`expected:    ${expected.map((v) => v.toFixed(6)).join(", ")}; max |difference| ${Math.max(...eig.map((v, i) => Math.abs(v - expected[i]))).toExponential(2)}`);
