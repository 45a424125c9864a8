/**
 * Practice mode's rules: read a learner's answer (a number or any constant expression, `-1/4`, `2*3`), compare
 * it with the node's gradient, and explain a wrong one with the local derivative and the chain-rule product
 * that gives the right value. Pure, unit-tested in Node.
 */
import { compileScalar, parseProgram, sourceErrorsOf } from "gradgraph/lecture";
import type { Problem } from "./model.js";
import { fmt } from "./model.js";
import { dname, type Line } from "./steps.js";

/**
 * The learner's text as a finite number, or why it is not one (`1/0`, `0/0`, `1e999` are not answers). With
 * `nonFinite` (the gradient asked for is itself ±∞ or NaN, as √x's at 0) `1/0`, `-1/0` and `0/0` are answers too:
 * otherwise the right answer could not be typed at all.
 */
export function parseAnswer(text: string, options: { nonFinite?: boolean } = {}): { value: number } | { error: string } {
  if (text.trim() === "") return { error: "Type a number (fractions like -1/4 are fine)." };
  try {
    const program = parseProgram(text);
    if (program.inputs.length > 0) return { error: `Use numbers only (${program.inputs.join(", ")} has no value here).` };
    const value = compileScalar(program, new Map()).root.data;
    if (!Number.isFinite(value) && options.nonFinite !== true) {
      return { error: `Not a number: ${text.trim()} is ${Number.isNaN(value) ? "undefined (NaN)" : value > 0 ? "infinite" : "minus infinity"}; type a finite number.` };
    }
    return { value };
  } catch (e) {
    const errors = sourceErrorsOf(e);
    return { error: `Not a number: ${errors.length > 0 ? errors[0]!.message : e instanceof Error ? e.message : String(e)}` };
  }
}

/** Equal up to rounding: the learner may type 0.333333 for 1/3. */
export function close(answer: number, expected: number): boolean {
  if (Object.is(answer, expected) || answer === expected) return true;
  if (!Number.isFinite(expected)) return false;
  return Math.abs(answer - expected) <= 1e-6 * Math.max(1, Math.abs(expected));
}

/**
 * The verdict on an answer for node `id`. A wrong one is told so without the right value (the learner tries
 * again, asks for a hint, or asks for the answer: {@link answerLines}).
 */
export function check(p: Problem, id: number, answer: number): { correct: boolean; expected: number; lines: Line[] } {
  const expected = p.snap.nodes[id]!.grad!;
  if (close(answer, expected)) {
    return { correct: true, expected, lines: [{ text: `${dname(p, id)} = ${fmt(expected)}`, kind: "result" }] };
  }
  return {
    correct: false,
    expected,
    lines: [{ text: `${fmt(answer)} is not ${dname(p, id)}. Try again, or ask for a hint.`, kind: "note" }],
  };
}
