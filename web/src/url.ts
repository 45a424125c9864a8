/**
 * The page's state in its URL, so a teacher can send a link: `?e=<expression>&at=<point>&view=backward&step=12
 * &wrt=w1&code=ts`. Unknown or malformed parameters are ignored (the page falls back to its defaults).
 */
import type { CodeTarget } from "../../src/index.js";

export const VIEWS = ["backprop", "forward", "paths", "practice"] as const;
export type View = (typeof VIEWS)[number];

export interface UrlState {
  expr: string;
  point: string;
  view: View;
  /** The stepper's position in the view (0-based); null: the view's default. */
  step: number | null;
  /** The input forward mode and path products differentiate with respect to; null: the first. */
  wrt: string | null;
  code: CodeTarget;
}

/** The query string (with `?`) for a state. Defaults are left out to keep links short. */
export function encodeState(s: UrlState): string {
  const q = new URLSearchParams();
  q.set("e", s.expr);
  q.set("at", s.point);
  if (s.view !== "backprop") q.set("view", s.view);
  if (s.step !== null) q.set("step", String(s.step));
  if (s.wrt !== null) q.set("wrt", s.wrt);
  if (s.code !== "py") q.set("code", s.code);
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
  return out;
}
