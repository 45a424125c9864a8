/**
 * The explorer's state and the rules that change it, without the DOM: the view, the code language, the input
 * forward mode and paths differentiate with respect to, each stepper view's position, practice progress, and
 * the problem on the page. The stepper of the current view is built once per problem, view and input and kept,
 * so a step click costs the same on a graph of 20 nodes or 20,000 (a step only asks the stepper for a frame).
 * Unit-tested in Node (test/web/controller.test.ts); main.ts wires it to the page.
 */
import type { CodeTarget } from "gradgraph/lecture";
import type { Problem, TensorProblem } from "./model.js";
import { backpropStepper, forwardModeStepper, pathsStepper, tensorStepper, type Stepper } from "./steps.js";
import type { UrlState, View } from "./url.js";

/** The views that step through the expression's graph. */
export type StepView = Exclude<View, "practice" | "train">;
export const isStepView = (v: View): v is StepView => v !== "practice" && v !== "train";

/** A stepper, with where its backward pass starts and which step shows a node, when it has those. */
export type AnyStepper = Stepper & { backwardStart?: number; stepOf?: (node: number, pass: "forward" | "backward") => number };

export interface PracticeState {
  /** The position in the backward order of the gradient asked for. */
  index: number;
  answered: Set<number>;
  correct: number;
  wrong: number;
  /** Answers shown with "Show answer" (counted as neither right nor wrong). */
  shown: number;
}

export class Explorer {
  view: View;
  code: CodeTarget;
  wrt: string | null;
  /** Each stepper view's position; null: its default (backprop: the last step, showing everything). */
  steps: Record<StepView, number | null> = { backprop: null, forward: null, paths: null };
  practice: PracticeState = { index: 0, answered: new Set(), correct: 0, wrong: 0, shown: 0 };
  /** The scalar problem on the page, or the tensor one (at most one of them is set). */
  problem: Problem | null = null;
  tensor: TensorProblem | null = null;
  private built: { owner: object; view: View; wrt: string | null; stepper: AnyStepper | null } | null = null;

  constructor(initial: Partial<UrlState>) {
    this.view = initial.view ?? "backprop";
    this.code = initial.code ?? "py";
    this.wrt = initial.wrt ?? null;
    if (initial.step !== undefined && initial.step !== null && isStepView(this.view)) this.steps[this.view] = initial.step;
  }

  /** The problem shown now, of either kind. */
  get shown(): Problem | TensorProblem | null {
    return this.problem ?? this.tensor;
  }

  /**
   * Puts a newly analysed problem on the page: "same" when it is the one shown (nothing to do), else whether its
   * graph (the DOT) differs from the shown one's. `restore` keeps the steps (a link's); otherwise they restart.
   * Returns a notice when a link asked for a scalar-only view on a tensor problem.
   */
  setProblem(next: Problem | TensorProblem, isTensor: boolean, restore: boolean): { change: "same" | "values" | "graph"; notice: View | null } {
    const shown = this.shown;
    if (shown !== null && shown.expr === next.expr && shown.point === next.point) return { change: "same", notice: null };
    const change = shown !== null && shown.dot === next.dot ? "values" : "graph";
    if (!restore) this.steps = { backprop: null, forward: null, paths: null };
    this.resetPractice();
    let notice: View | null = null;
    if (isTensor) {
      this.problem = null;
      this.tensor = next as TensorProblem;
      if (this.view !== "backprop" && this.view !== "train") {
        notice = this.view;
        this.view = "backprop";
      }
    } else {
      this.tensor = null;
      const p = (this.problem = next as Problem);
      const names = p.graph.names;
      if (this.wrt === null || !names.includes(this.wrt)) this.wrt = names.find((n) => n !== "x" && n !== "y") ?? names[0] ?? null;
    }
    return { change, notice };
  }

  resetPractice(): void {
    this.practice = { index: 0, answered: new Set(), correct: 0, wrong: 0, shown: 0 };
  }

  /** The current view's stepper (built once per problem, view and input), or null where there is none. */
  stepper(): AnyStepper | null {
    const owner = this.shown;
    if (owner === null) return null;
    const b = this.built;
    if (b !== null && b.owner === owner && b.view === this.view && b.wrt === this.wrt) return b.stepper;
    const stepper = this.build();
    this.built = { owner, view: this.view, wrt: this.wrt, stepper };
    return stepper;
  }

  private build(): AnyStepper | null {
    if (this.tensor !== null) return this.view === "backprop" ? tensorStepper(this.tensor) : null;
    const p = this.problem;
    if (p === null) return null;
    const wrtId = p.snap.params.find((q) => p.snap.nodes[q]!.name === this.wrt);
    switch (this.view) {
      case "backprop":
        return backpropStepper(p);
      case "forward":
        return wrtId === undefined ? null : forwardModeStepper(p, wrtId);
      case "paths":
        return this.wrt === null ? null : pathsStepper(p, this.wrt);
      case "practice":
      case "train":
        return null;
    }
  }

  /** The position in the current step view (its default when none was chosen). */
  currentStep(): number {
    const stepper = this.stepper();
    if (stepper === null || !isStepView(this.view)) return 0;
    const s = this.steps[this.view];
    return s === null ? stepper.length - 1 : Math.min(Math.max(0, s), stepper.length - 1);
  }

  /** Moves to a step (clamped); false where the view has no stepper. */
  go(step: number): boolean {
    const stepper = this.stepper();
    if (stepper === null || !isStepView(this.view)) return false;
    this.steps[this.view] = Math.min(Math.max(0, step), stepper.length - 1);
    return true;
  }

  /** What a click on node `id` does: a step to show it (backprop), or a new input (forward mode, paths). */
  clickNode(id: number): boolean {
    const stepper = this.stepper();
    const p = this.problem;
    if (stepper === null || p === null) return false;
    if (this.view === "backprop" && stepper.stepOf !== undefined) {
      const inBackward = this.currentStep() >= (stepper.backwardStart ?? 0);
      const n = p.snap.nodes[id]!;
      if (inBackward && n.requiresGrad) return this.go(stepper.stepOf(id, "backward"));
      if (n.kind === "op") return this.go(stepper.stepOf(id, "forward"));
      return false;
    }
    if ((this.view === "forward" || this.view === "paths") && p.snap.params.includes(id)) {
      this.wrt = p.snap.nodes[id]!.name;
      this.steps[this.view] = null;
      return true;
    }
    return false;
  }
}
