/**
 * Practice mode's panel: the gradient asked for, the answer field, Hint and Show answer, the feedback and the
 * score. A wrong number is told so without the right value; Hint gives the chain rule's factors in symbols;
 * Show answer gives the worked value and moves on (counted apart from right and wrong answers).
 */
import type { Explorer } from "./controller.js";
import { fmt, type Problem } from "./model.js";
import { check, parseAnswer } from "./practice.js";
import { dname, gradientLines, hintLines, practiceOrder } from "./steps.js";
import { para, renderLines, ui } from "./ui.js";

/** The panel for the gradient asked for now (or the summary when all are found). */
export function renderPractice(p: Problem, ex: Explorer): void {
  const order = practiceOrder(p);
  const id = order[ex.practice.index] ?? null;
  const { correct, wrong, shown, answered } = ex.practice;
  ui.score.textContent = `Correct: ${correct} · Wrong: ${wrong}${shown > 0 ? ` · Shown: ${shown}` : ""} · ${answered.size} of ${order.length} gradients found`;
  const done = id === null;
  ui.practiceForm.hidden = done;
  ui.hint.hidden = ui.reveal.hidden = done;
  if (done) {
    if (!ui.feedback.classList.contains("done")) {
      ui.feedback.className = "feedback right done";
      ui.feedback.replaceChildren(para(`✓ Done: all ${order.length} gradients found, with ${correct} correct and ${wrong} wrong entries.`));
    }
    return;
  }
  ui.answerLabel.textContent = `${dname(p, id)} =`;
}

/** The node whose gradient is asked for now, if any. */
const asked = (p: Problem, ex: Explorer) => practiceOrder(p)[ex.practice.index];

/** Checks the typed answer; returns whether the state changed. */
export function submitAnswer(p: Problem, ex: Explorer): boolean {
  const id = asked(p, ex);
  if (id === undefined) return false;
  const parsed = parseAnswer(ui.answer.value, { nonFinite: !Number.isFinite(p.snap.nodes[id]!.grad!) });
  if ("error" in parsed) {
    ui.feedback.className = "feedback invalid";
    ui.feedback.replaceChildren(para(parsed.error));
    return false;
  }
  const verdict = check(p, id, parsed.value);
  if (verdict.correct) {
    ex.practice.correct++;
    found(ex, id);
    ui.feedback.className = "feedback right";
    ui.feedback.replaceChildren(para(`✓ Correct: ${dname(p, id)} = ${fmt(verdict.expected)}`));
    ui.answer.value = "";
  } else {
    ex.practice.wrong++;
    ui.feedback.className = "feedback wrong";
    ui.feedback.replaceChildren(para(`✗ ${verdict.lines[0]!.text}`));
    ui.answer.select();
  }
  return true;
}

/** Shows the hint for the gradient asked for. */
export function showHint(p: Problem, ex: Explorer): void {
  const id = asked(p, ex);
  if (id === undefined) return;
  ui.feedback.className = "feedback hint";
  ui.feedback.replaceChildren(para(`Hint for ${dname(p, id)}:`), renderLines(hintLines(p, id)));
  ui.answer.focus();
}

/** Shows the answer, worked out, and moves on to the next gradient. */
export function showAnswer(p: Problem, ex: Explorer): void {
  const id = asked(p, ex);
  if (id === undefined) return;
  ex.practice.shown++;
  found(ex, id);
  ui.feedback.className = "feedback shown";
  ui.feedback.replaceChildren(para(`The answer: ${dname(p, id)} = ${fmt(p.snap.nodes[id]!.grad!)}`), renderLines(gradientLines(p, id)));
  ui.answer.value = "";
  ui.answer.focus();
}

function found(ex: Explorer, id: number): void {
  ex.practice.answered.add(id);
  ex.practice.index++;
}
