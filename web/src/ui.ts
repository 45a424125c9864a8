/**
 * The page's elements, looked up once, and the small DOM helpers every renderer uses.
 */
import type { Line } from "./steps.js";

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
};

export const ui = {
  form: $<HTMLFormElement>("problem"),
  expr: $<HTMLInputElement>("expr"),
  point: $<HTMLInputElement>("point"),
  example: $<HTMLSelectElement>("example"),
  error: $("error"),
  value: $("value"),
  at: $("at"),
  grads: $("grads"),
  anomaly: $("anomaly"),
  share: $<HTMLButtonElement>("share"),
  shareStatus: $("share-status"),
  tabs: Array.from(document.querySelectorAll<HTMLButtonElement>('[role="tab"]')),
  viewNotice: $("view-notice"),
  graph: $("graph"),
  stepper: $("stepper"),
  stepperHead: $("stepper-head"),
  controls: $("controls"),
  first: $<HTMLButtonElement>("first"),
  prev: $<HTMLButtonElement>("prev"),
  play: $<HTMLButtonElement>("play"),
  next: $<HTMLButtonElement>("next"),
  last: $<HTMLButtonElement>("last"),
  stepLabel: $("step-label"),
  explain: $("explain"),
  practice: $("practice"),
  practiceForm: $<HTMLFormElement>("practice-form"),
  answer: $<HTMLInputElement>("answer"),
  answerLabel: $("answer-label"),
  hint: $<HTMLButtonElement>("hint"),
  reveal: $<HTMLButtonElement>("reveal"),
  feedback: $("feedback"),
  score: $("score"),
  restart: $<HTMLButtonElement>("restart"),
  costs: $("costs"),
  code: $("code"),
  codeTitle: $("code-title"),
  codeLangs: $("code-langs"),
  langs: Array.from(document.querySelectorAll<HTMLInputElement>('input[name="lang"]')),
  skip: document.querySelector<HTMLAnchorElement>("a.skip")!,
};

export function para(text: string): HTMLParagraphElement {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}

/** An explanation's lines as a definition list (label, text), a line without a label spanning the row. */
export function renderLines(lines: readonly Line[]): HTMLElement {
  const dl = document.createElement("dl");
  dl.className = "lines";
  for (const l of lines) {
    const row = document.createElement("div");
    row.className = `line ${l.kind ?? ""}`.trim();
    const dd = document.createElement("dd");
    dd.textContent = l.text;
    if (l.label === undefined) {
      row.classList.add("wide");
      row.append(dd);
    } else {
      const dt = document.createElement("dt");
      dt.textContent = l.label;
      row.append(dt, dd);
    }
    dl.append(row);
  }
  return dl;
}
