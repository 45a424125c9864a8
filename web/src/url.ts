/**
 * The page's state in its URL, so a teacher can send a link: `?e=<expression>&at=<point>&view=backward&step=12
 * &wrt=w1&code=ts`, and for the training view `view=train&data=spirals&layers=32-32&act=tanh&opt=sgd&lr=0.1
 * &batch=16&seed=3&speed=slow&noise=0.3&wd=0.001` (settings at their defaults are left out). Unknown or malformed parameters are
 * ignored (the page falls back to its defaults).
 */
import type { CodeTarget } from "gradgraph/lecture";
import { readTrainParams, withDefaults, writeTrainParams, type TrainSettings } from "./train-settings.js";

export const VIEWS = ["backprop", "forward", "paths", "practice", "train"] as const;
export type View = (typeof VIEWS)[number];

export interface UrlState {
  /** The expression and the point; null leaves them out (the training view with the default example). */
  expr: string | null;
  point: string | null;
  view: View;
  /** The stepper's position in the view (0-based); null: the view's default. */
  step: number | null;
  /** The input forward mode and path products differentiate with respect to; null: the first. */
  wrt: string | null;
  code: CodeTarget;
  /** The training view's settings (those left out are the defaults). */
  train?: Partial<TrainSettings>;
}

/** The query string (with `?`) for a state. Defaults are left out to keep links short. */
export function encodeState(s: UrlState): string {
  const q = new URLSearchParams();
  if (s.expr !== null) q.set("e", s.expr);
  if (s.point !== null) q.set("at", s.point);
  if (s.view !== "backprop") q.set("view", s.view);
  if (s.step !== null) q.set("step", String(s.step));
  if (s.wrt !== null) q.set("wrt", s.wrt);
  if (s.code !== "py") q.set("code", s.code);
  if (s.train !== undefined) writeTrainParams(q, withDefaults(s.train));
  return `?${q.toString()}`;
}

/** What a query string says; missing or invalid parameters are absent. */
export function decodeState(search: string): Partial<UrlState> {
  const q = new URLSearchParams(search);
  const out: Partial<UrlState> = {};
  const e = q.get("e");
  if (e !== null) out.expr = e;
  const at = q.get("at");
  if (at !== null) out.point = at;
  const view = q.get("view");
  if (view !== null && (VIEWS as readonly string[]).includes(view)) out.view = view as View;
  const step = q.get("step");
  if (step !== null && /^\d+$/.test(step)) out.step = Number(step);
  const wrt = q.get("wrt");
  if (wrt !== null && wrt !== "") out.wrt = wrt;
  const code = q.get("code");
  if (code === "py" || code === "ts") out.code = code;
  const train = readTrainParams(q);
  if (Object.keys(train).length > 0) out.train = train;
  return out;
}
