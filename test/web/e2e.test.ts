/**
 * End-to-end tests of the web explorer in a real headless browser: Debian's Chromium (`/usr/bin/chromium`,
 * installed by `.ci/run`) driven by playwright-core; no browser is ever downloaded. The site is built with Vite
 * into a temporary folder and served by a tiny static server under a sub-path, as a static host would.
 * Screenshots of every view go to `test-artifacts/web/` (git-ignored).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { parseProgram } from "../../packages/gradgraph/src/lecture.js";
import { SourceError } from "../../packages/gradgraph/src/index.js";
import { encodeState } from "../../web/src/url.js";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  console.warn(`test/web/e2e.test.ts: SKIPPED: ${CHROMIUM} is missing (install Debian's chromium: apt-get install -y chromium)`);
}

const ROOT = resolve(import.meta.dirname, "../..");
const ARTIFACTS = join(ROOT, "test-artifacts", "web");
/** The site is served under a sub-path, to check that it only uses relative URLs. */
const BASE_PATH = "/some/host/gradgraph/";

const L_MLP = "L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2";
const L_POINT = "2, 10, -1, 4, 3, 1";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
};

describe.skipIf(!HAS_CHROMIUM)("web explorer (headless Chromium)", () => {
  let dist = "";
  let server: Server;
  let base = "";
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Console errors and uncaught exceptions of the current test's pages. */
  let problems: string[] = [];

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), "gradgraph-web-"));
    await promisify(execFile)(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--config", "web/vite.config.ts", "--outDir", dist, "--emptyOutDir", "--logLevel", "warn"], { cwd: ROOT });
    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
      if (!path.startsWith(BASE_PATH)) {
        res.writeHead(404).end();
        return;
      }
      const rel = normalize(path.slice(BASE_PATH.length) || "index.html");
      if (rel.startsWith("..")) {
        res.writeHead(403).end();
        return;
      }
      readFile(join(dist, rel)).then(
        (body) => res.writeHead(200, { "content-type": TYPES[extname(rel)] ?? "application/octet-stream" }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    base = `http://127.0.0.1:${address.port}${BASE_PATH}`;
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (dist !== "") await rm(dist, { recursive: true, force: true });
  });

  beforeEach(async () => {
    problems = [];
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // waits for the page to reach a state, not speed limits: generous, for a busy machine (a broken page never gets there)
    context.setDefaultTimeout(45_000); // under the tests' 60 s, so a wait that fails names what it waited for
    page = await context.newPage();
    watch(page);
  });

  afterEach(async () => {
    await context.close();
    expect(problems, "console errors").toEqual([]);
  });

  function watch(p: Page): void {
    p.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
    });
    p.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
    p.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  }

  /** Opens the page (with a query string) and waits until the graph is drawn. */
  async function open(query = "", p: Page = page): Promise<void> {
    await p.goto(base + query);
    await p.waitForSelector("body[data-ready=true] #graph svg", { timeout: 20_000 });
  }

  const text = async (selector: string) => ((await page.textContent(selector)) ?? "").trim();
  const shot = (name: string, p: Page = page) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const current = () => page.getAttribute("#graph g.node.current", "data-name");

  /** Types the lecture's L_MLP and its point as a person would, and waits for the gradients. */
  async function typeLecture(): Promise<void> {
    await page.fill("#expr", "");
    await page.locator("#expr").pressSequentially(L_MLP, { delay: 0 });
    await page.fill("#point", "");
    await page.locator("#point").pressSequentially(L_POINT, { delay: 0 });
    await page.press("#point", "Enter");
    await page.waitForFunction(() => document.querySelector('#grads li[data-input="w1"]')?.textContent === "∂L/∂w1 = -36");
    await page.waitForSelector("body[data-ready=true] #graph svg g.node[data-name=w1]");
  }

  it("computes the lecture's L_MLP gradients (-36, -18, -12, -6) and draws its graph", async () => {
    await open("?e=f(x)%20%3D%20x&at=1");
    await typeLecture();
    expect(await text("#value")).toBe("L = 9");
    const grads = await page.$$eval("#grads li", (lis) => lis.map((li) => li.textContent));
    expect(grads).toEqual(["∂L/∂x = 18", "∂L/∂y = 6", "∂L/∂w1 = -36", "∂L/∂b1 = -18", "∂L/∂w2 = -12", "∂L/∂b2 = -6"]);
    // Every DOT node and edge is in the SVG, edges labelled with values and gradients, as on the slides.
    expect(await page.$$eval("#graph g.node[data-node]", (gs) => gs.length)).toBe(17);
    expect(await page.$$eval("#graph g.edge", (gs) => gs.length)).toBe(17);
    const labels = await page.$$eval("#graph text.edge-label", (ts) => ts.map((t) => t.textContent));
    expect(labels).toContain("w1 = -1 | ∂ = -36");
    expect(labels).toContain("j = 9 | ∂ = 1");
    // Left to right: the inputs left of the first op, the output's op at the right.
    const x = async (name: string) => (await page.locator(`#graph g.node[data-name="${name}"]`).boundingBox())!.x;
    expect(await x("w1")).toBeLessThan(await x("a"));
    expect(await x("a")).toBeLessThan(await x("j"));
    // The code is the lecture's, for this expression.
    const code = await text("#code");
    expect(code).toContain("def df(x, y, w1, b1, w2, b2):  # x=2, y=10, w1=-1, b1=4, w2=3, b2=1");
    expect(code).toContain("dw1, dx = x * da, w1 * da  # = -36, 18");
    await shot("backprop-final");
  });

  it("steps the backward pass: highlighted node, local derivative, chain-rule product, code line", async () => {
    await open();
    await typeLecture();
    await page.click("#phase-backward");
    expect(await text("#step-label")).toBe("Step 10 of 23");
    expect(await current()).toBe("j");
    expect(await text("#explain")).toContain("∂L/∂j = 1");
    expect(await text("#code .line.current")).toBe("dj = 1");

    // Arrow keys step (focus outside the text fields).
    await page.focus("#next");
    await page.keyboard.press("ArrowRight");
    expect(await current()).toBe("i");
    const explain = await text("#explain");
    expect(explain).toContain("Backward pass · ∂L/∂i");
    expect(explain).toContain("∂j/∂i = 2*i = -6");
    expect(explain).toContain("∂L/∂i = ∂j/∂i · ∂L/∂j = -6 · 1 = -6");
    expect(await text("#code .line.current")).toBe("di = 2*i * dj  # = -6");
    // i's edge shows its gradient now; a's does not yet.
    const labels = await page.$$eval("#graph text.edge-label", (ts) => ts.map((t) => t.textContent));
    expect(labels).toContain("i = -3 | ∂ = -6");
    expect(labels).toContain("a = -2");
    expect(await page.$$eval("#graph text.edge-label.current", (ts) => ts.map((t) => t.textContent))).toEqual(["i = -3 | ∂ = -6"]);

    // On to c: ∂L/∂c = ∂d/∂c · ∂L/∂d = 3 · (-6) = -18 (order: j i h y g d b2 c).
    for (let k = 0; k < 6; k++) await page.click("#next");
    expect(await current()).toBe("c");
    expect(await text("#explain")).toContain("∂L/∂c = ∂d/∂c · ∂L/∂d = 3 · (-6) = -18");
    expect(await text("#explain")).toContain("∂d/∂c = w2 = 3");
    expect(await page.$$eval("#graph g.node.related", (gs) => gs.map((g) => g.getAttribute("data-name")))).toEqual(["d"]);
    expect(await text("#code .line.current")).toBe("dc, dw2 = w2 * dd, c * dd  # = -18, -12");
    expect(new URL(page.url()).searchParams.get("step")).toBe("16");
    await shot("backprop-step");

    await page.keyboard.press("ArrowLeft");
    expect(await current()).toBe("b2");
    // A node is reached with Tab and stepped to with Enter, as a click does.
    await page.focus('#graph g.node[data-name="a"]');
    await page.keyboard.press("Enter");
    expect(await current()).toBe("a");
    // The forward pass, from its start.
    await page.click("#phase-forward");
    expect(await text("#step-label")).toBe("Step 1 of 23");
    await page.click("#next");
    expect(await current()).toBe("a");
    expect(await text("#explain")).toContain("a = w1 * x");
    expect(await text("#code .line.current")).toBe("a = w1 * x  # a = -2");
    expect(await page.$$eval("#graph text.edge-label", (ts) => ts.map((t) => t.textContent))).toContain("b = ?");
    await shot("backprop-forward");
  });

  it("shows a fan-out node's contributions and their sum; plays", async () => {
    await open(`?e=${encodeURIComponent("w(x) = x^2 + 3*x")}&at=2`);
    // Without a step in the URL the stepper shows its last step: the whole picture.
    expect(await text("#step-label")).toBe("Step 8 of 8");
    expect(await current()).toBe("x");
    const explain = await text("#explain");
    expect(explain).toContain("x is used 2 times");
    expect(explain).toContain("∂b/∂x = 3;  ∂b/∂x · ∂w/∂b = 3 · 1 = 3");
    expect(explain).toContain("∂a/∂x = 2*x = 4;  ∂a/∂x · ∂w/∂a = 4 · 1 = 4");
    expect(explain).toContain("∂w/∂x = ∂b/∂x · ∂w/∂b + ∂a/∂x · ∂w/∂a = 3 + 4 = 7");
    expect(await page.$$eval("#code .line.current", (ls) => ls.map((l) => l.textContent!.trim()))).toEqual([
      "dx = 3 * db  # = 3",
      "dx += 2*x * da  # += 4 (dx = 7)",
    ]);
    expect(await page.$$eval("#graph text.edge-label.current", (ts) => ts.map((t) => t.textContent))).toEqual([
      "x = 2 | ∂ += 4 (sum 7)",
      "x = 2 | ∂ += 3 (sum 7)",
    ]);
    await shot("fan-out");
    // Play runs from the start and can be paused.
    await page.click("#play");
    expect(await page.getAttribute("#play", "aria-pressed")).toBe("true");
    await page.waitForFunction(() => document.querySelector("#step-label")?.textContent === "Step 2 of 8");
    await page.click("#play");
    expect(await page.getAttribute("#play", "aria-pressed")).toBe("false");
  });

  it("forward mode and path products: tangents, each path with its product, the three methods' counts", async () => {
    await open();
    await typeLecture();
    await page.click("#tab-forward");
    await page.selectOption("#wrt", "w1");
    await page.click("#first");
    expect(await current()).toBe("w1");
    await page.click("#next");
    expect(await current()).toBe("a");
    expect(await text("#explain")).toContain("a\u0307 = ∂a/∂w1 · w\u03071 = 2 · 1 = 2");
    await page.click("#last");
    expect(await text("#explain")).toContain("∂L/∂w1 = -36");
    const costs = await page.$$eval("#costs tbody tr", (trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent)));
    expect(costs).toEqual([
      ["reverse mode (backprop)", "1 sweep", "13"],
      ["forward mode", "6 sweeps", "34"],
      ["path products", "6 paths", "34"],
    ]);
    expect(await text("#costs tr.active td")).toBe("forward mode");
    await shot("forward-mode");

    await page.click("#tab-paths");
    expect(await page.inputValue("#wrt")).toBe("w1");
    expect(await text("#explain")).toContain("product2 × 1 × 1 × 3 × 1 × 1 × 1 × (-6) = -36");
    expect(await text("#explain")).toContain("w1 → a → b → c → d → g → h → i → j");
    expect(await page.$$eval("#graph g.edge.current", (gs) => gs.length)).toBe(8);
    expect(await page.$$eval("#graph text.edge-label.current", (ts) => ts[0]?.textContent)).toBe("w1 = -1 | ∂a/∂w1 = 2");
    await shot("paths");

    // Two paths for x in x^2 + 3x, then their sum.
    await page.fill("#expr", "w(x) = x^2 + 3*x");
    await page.fill("#point", "2");
    await page.press("#point", "Enter");
    await page.waitForFunction(() => document.querySelector("#step-label")?.textContent === "Step 3 of 3");
    expect(await text("#explain")).toContain("∂w/∂x = 4 + 3 = 7");
    await page.click("#first");
    expect(await text("#explain")).toContain("Path 1 of 2");
  });

  it("practice mode: gradients hidden, a wrong entry explained, a right one counted", async () => {
    await open();
    await typeLecture();
    await page.click("#tab-practice");
    expect(await page.$$eval("#grads li", (lis) => lis.map((li) => li.textContent))).toContain("∂L/∂w1 = ?");
    // No gradient on any edge but the seed's, none in the code's comments.
    const labels = await page.$$eval("#graph text.edge-label", (ts) => ts.map((t) => t.textContent));
    expect(labels.filter((l) => l!.includes("∂"))).toEqual(["j = 9 | ∂ = 1"]);
    expect(await text("#code")).not.toContain("-36");
    expect(await text("#answer-label")).toBe("∂L/∂i =");
    expect(await current()).toBe("i");

    await page.fill("#answer", "5");
    await page.press("#answer", "Enter");
    // A wrong number is told so, without giving the answer away.
    const wrong = await text("#feedback.wrong");
    expect(wrong).toBe("✗ 5 is not ∂L/∂i. Try again, or ask for a hint.");
    expect(await text("#score")).toBe("Correct: 0 · Wrong: 1 · 0 of 13 gradients found");
    await shot("practice-wrong");
    // The hint: the local derivative and the chain rule in symbols, not the value.
    await page.click("#hint");
    const hint = await text("#feedback.hint");
    expect(hint).toContain("∂j/∂i = 2*i = -6");
    expect(hint).toContain("∂L/∂i = ∂j/∂i · ∂L/∂j");
    expect(hint).not.toContain("-6 · 1");

    await page.fill("#answer", "-6");
    await page.press("#answer", "Enter");
    expect(await text("#feedback.right")).toContain("Correct: ∂L/∂i = -6");
    expect(await text("#score")).toBe("Correct: 1 · Wrong: 1 · 1 of 13 gradients found");
    expect(await text("#answer-label")).toBe("∂L/∂h =");
    expect(await current()).toBe("h");
    expect(await page.$$eval("#graph text.edge-label", (ts) => ts.map((t) => t.textContent))).toContain("i = -3 | ∂ = -6");
    // An expression is a fine answer: ∂L/∂h = 1 · (-6).
    await page.fill("#answer", "1*(-6)");
    await page.press("#answer", "Enter");
    expect(await text("#score")).toBe("Correct: 2 · Wrong: 1 · 2 of 13 gradients found");
    await shot("practice-right");
    // Show answer: the value worked out, then the next gradient; counted apart.
    expect(await text("#answer-label")).toBe("∂L/∂y =");
    await page.click("#reveal");
    expect(await text("#feedback.shown")).toContain("The answer: ∂L/∂y = 6");
    expect(await text("#score")).toBe("Correct: 2 · Wrong: 1 · Shown: 1 · 3 of 13 gradients found");
    expect(await text("#answer-label")).toBe("∂L/∂g =");
  });

  it("shows a syntax error inline with the caret, as the CLI does", async () => {
    await open();
    const bad = "f(x, y) = (x + * y";
    await page.fill("#expr", bad);
    await page.press("#expr", "Enter");
    await page.waitForSelector("#error:not([hidden])");
    let expected = "";
    try {
      parseProgram(bad);
    } catch (e) {
      expected = (e as SourceError).format();
    }
    expect(expected).toMatch(/^expression:\d+: expected an expression/);
    expect(await page.textContent("#error")).toBe(expected);
    expect(await page.getAttribute("#expr", "aria-invalid")).toBe("true");
    await shot("syntax-error");
    // A bad point is reported against the point.
    await page.fill("#expr", L_MLP);
    await page.fill("#point", "2, 10, -1, 4, 3");
    await page.press("#point", "Enter");
    await page.waitForFunction(() => document.querySelector("#error")?.textContent?.startsWith("point:"));
    expect(await text("#error")).toContain("L takes 6 values (x, y, w1, b1, w2, b2), got 5: missing b2");
    expect(await page.getAttribute("#point", "aria-invalid")).toBe("true");
    // Fixed: the error goes away.
    await page.fill("#point", L_POINT);
    await page.press("#point", "Enter");
    await page.waitForSelector("#error[hidden]", { state: "attached" });
    // A shared link with a mistake opens with the error shown.
    await page.goto(base + encodeState({ expr: "f(x) = sin(x", point: "1", view: "backprop", step: null, wrt: null, code: "py" }));
    await page.waitForSelector("#error:not([hidden])");
    expect(await text("#error")).toMatch(/^expression:\d+: /);
    expect(await text("#graph")).toContain("The graph appears here");
    // No stepper buttons that would do nothing.
    expect(await page.isHidden("#controls")).toBe(true);
    expect(await text("#explain")).toContain("The steps appear here");
  });

  it("never freezes on a wide graph: a 200-term sum and 200 inputs are drawn compact; a 2,000-term one steps without a drawing", async () => {
    const sum = (n: number) => `f(x) = ${Array.from({ length: n }, (_, k) => `${k + 1}*x`).join(" + ")}`;
    // Graphviz's full layout of this takes minutes; the page draws each use of x apart, in a worker.
    await open(encodeState({ expr: sum(200), point: "2", view: "backprop", step: null, wrt: null, code: "py" }));
    expect(await page.$$eval('#graph g.node[data-name="x"]', (gs) => gs.length)).toBe(200);
    expect(await text("#grads")).toBe("∂f/∂x = 20100");
    await page.click("#phase-backward");
    await page.click("#next");
    expect(await text("#explain")).toContain("Backward pass · ∂f/∂");
    expect(await current()).not.toBeNull();
    const inputs = Array.from({ length: 200 }, (_, k) => `x${k}`);
    await open(encodeState({ expr: `f(${inputs.join(", ")}) = ${inputs.join(" + ")}`, point: inputs.map((_, k) => k).join(", "), view: "backprop", step: null, wrt: null, code: "py" }));
    expect(await page.$$eval("#graph g.node[data-node]", (gs) => gs.length)).toBe(399);
    await shot("wide-inputs");
    // Too many nodes to draw: said so; the stepper and the code still work.
    await page.fill("#expr", sum(2000));
    await page.fill("#point", "2");
    await page.press("#point", "Enter");
    await page.waitForFunction(() => document.querySelector("#graph")?.textContent?.includes("too many to draw here"), null, { timeout: 30_000 });
    await page.click("#first");
    await page.click("#next");
    expect(await text("#step-label")).toMatch(/^Step 2 of \d+$/);
    expect(await text("#code .line.current")).toBe("a = 1 * x  # a = 2");
  });

  it("says where and why a value is NaN or infinite, as --detect-anomaly does", async () => {
    await open(encodeState({ expr: "f(x) = log(x)", point: "-1", view: "backprop", step: null, wrt: null, code: "py" }));
    expect(await page.isVisible("#anomaly")).toBe(true);
    const anomaly = await text("#anomaly");
    expect(anomaly).toContain("forward pass: log(-1) gave NaN from finite inputs");
    expect(anomaly).toContain("the function is undefined at this point");
    await shot("anomaly");
    await page.fill("#point", "2");
    await page.press("#point", "Enter");
    await page.waitForSelector("#anomaly[hidden]", { state: "attached" });
  });

  it("restores a shared URL: expression, point, view, input, step, language", async () => {
    const url = encodeState({ expr: "f(x, y) = 1/(y + e^(-x))", point: "0, 1", view: "paths", step: 0, wrt: "y", code: "ts" });
    await open(url);
    expect(await page.inputValue("#expr")).toBe("f(x, y) = 1/(y + e^(-x))");
    expect(await page.inputValue("#point")).toBe("0, 1");
    expect(await page.getAttribute("#tab-paths", "aria-selected")).toBe("true");
    expect(await page.inputValue("#wrt")).toBe("y");
    expect(await page.isChecked("#lang-ts")).toBe(true);
    expect(await text("#code")).toContain("export function df(x: number, y: number): [number, number[]] {");
    expect(await text("#explain")).toContain("y → c → d");
    expect(await page.$$eval("#grads li", (lis) => lis.map((li) => li.textContent))).toEqual(["∂f/∂x = 0.25", "∂f/∂y = -0.25"]);
    await shot("shared-url");

    // A backprop step survives a reload through the URL the page keeps up to date.
    await page.click("#tab-backprop");
    await page.click("#phase-backward");
    await page.click("#next");
    const name = await current();
    const step = new URL(page.url()).searchParams.get("step");
    const again = await context.newPage();
    watch(again);
    await open(new URL(page.url()).search, again);
    expect(await again.getAttribute("#graph g.node.current", "data-name")).toBe(name);
    expect(new URL(again.url()).searchParams.get("step")).toBe(step);
  });

  it("draws a tensor expression with shapes on its edges and steps it", async () => {
    // A link asking for practice on tensor inputs says why it shows Backprop instead.
    await open("?e=f(x)%3Dx%5E2&at=%5B1%2C2%5D&view=practice");
    expect(await text("#view-notice")).toBe("Practice is not available for tensor inputs (it works on expressions of numbers), so the Backprop view is shown.");
    expect(await page.getAttribute("#tab-backprop", "aria-selected")).toBe("true");
    await page.selectOption("#example", { label: "Minibatch: T = (max(X W, 0) - y)^2 + z (tensors)" });
    await page.waitForSelector("body[data-ready=true] #graph g.node[data-name=X]");
    // The menu shows the example now on the page (it does not snap back to "Choose…").
    expect(await page.inputValue("#example")).toBe("T(X, W, y, z) = (max(X @ W, 0) - y)^2 + z");
    expect(await text("#value")).toMatch(/^T \[2,2\] = /);
    const labels = await page.$$eval("#graph text.edge-label", (ts) => ts.map((t) => t.textContent));
    expect(labels).toEqual(expect.arrayContaining(["X [2,2]", "W [2,2]", "y [2]", "a [2,2]", "T [2,2]"]));
    // Values and gradients on demand: hovering an edge or a node shows what it carries.
    const tips = await page.$$eval("#graph g.edge title, #graph g.node title", (ts) => ts.map((t) => t.textContent));
    expect(tips).toContain("W [2,2] = [[1, -1], [0.5, 2]]; ∇W = [[11, 6], [1, 12]]");
    expect(await page.$$eval("#grads li", (lis) => lis.map((li) => li.textContent))).toContain("∂sum(T)/∂W = [[11, 6], [1, 12]]");
    expect(await page.isDisabled("#tab-practice")).toBe(true);
    expect(await page.isHidden("#view-notice")).toBe(true);
    await page.click("#phase-backward");
    expect(await current()).toBe("T");
    expect(await text("#explain")).toContain("∇T = ones[2,2]");
    await page.click("#last");
    expect(await current()).toBe("X");
    // the backward table's line for X: its shape, the vector rule that made its gradient, the gradient
    expect(await text("#code .line.current")).toMatch(/^X {5}\[2,2\] {2}∇X = ∇a @ Wᵀ +\[\[-4, 13\], \[3, 1\.5\]\]$/);
    await shot("tensor");
  });

  // ---- the training view ----------------------------------------------------------------------------------

  /** Opens the training view (settings in the query) and waits for the first evaluation on the page. */
  async function openTraining(query = "?view=train"): Promise<void> {
    await page.goto(base + query);
    await page.waitForSelector("#train[data-ready=true]");
  }
  /** A displayed figure as a number ("0.8106", "47.5%"). */
  const figure = async (selector: string) => parseFloat(await text(selector));
  const waitSteps = (n: number) => page.waitForSelector(`#train[data-steps="${n}"]`);

  it("trains moons in a Web Worker: the loss falls and the accuracy rises; pause, one minibatch through the four stages, reset", async () => {
    await openTraining();
    expect(page.workers()).toHaveLength(1);
    expect(await page.getAttribute("#tab-train", "aria-selected")).toBe("true");
    expect(await text("#train-steps")).toBe("0");
    expect(await text("#train-network")).toBe("MLP 2-16-16-2 (relu) · 354 parameters · 400 training and 100 test points");
    expect(await text("#train-cli")).toBe("gradgraph train --data moons --model 2-16-16-2 --act relu --opt adam --lr 0.01 --batch 32 --seed 0");
    // The network diagram: every weight of 2-16-16-2 an edge, coloured by its sign.
    await page.waitForFunction(() => document.querySelectorAll("#train-net line").length === 2 * 16 + 16 * 16 + 16 * 2);
    const colours = await page.$$eval("#train-net line", (ls) => new Set(ls.map((l) => l.getAttribute("stroke"))).size);
    expect(colours).toBe(2);
    const loss0 = await text("#train-loss"), acc0 = await text("#train-acc"), testAcc0 = await text("#test-acc");
    expect(await figure("#train-acc")).toBeLessThan(70);

    // Train until the displayed figures show learning (polled, no clock): loss halved, accuracy over 90%.
    await page.click("#train-play");
    expect(await page.getAttribute("#train-play", "aria-pressed")).toBe("true");
    await page.waitForFunction(
      (l0) => {
        const loss = parseFloat(document.querySelector("#train-loss")?.textContent ?? "");
        const acc = parseFloat(document.querySelector("#train-acc")?.textContent ?? "");
        return loss < l0 / 2 && acc >= 90;
      },
      parseFloat(loss0),
      { timeout: 30_000 },
    );
    expect(await figure("#test-acc")).toBeGreaterThan(parseFloat(testAcc0));
    expect((await page.getAttribute("#train-curve path.train", "d"))!.split("L").length).toBeGreaterThan(1);

    // Pause: the worker stops (it says so), the step counter stays.
    await page.click("#train-play");
    expect(await page.getAttribute("#train-play", "aria-pressed")).toBe("false");
    await page.waitForSelector("#train[data-running=false]");
    const n = Number(await page.getAttribute("#train", "data-steps"));
    expect(await text("#train-steps")).toBe(String(n));
    await shot("training");

    // One minibatch: the counter advances by one, the four stages show its figures, Update is the current one.
    // (Minibatch 13 of an epoch holds the last 16 of the 400 training points.)
    await page.click("#train-step");
    await waitSteps(n + 1);
    expect(await text("#stage-sample .stage-value")).toMatch(/^(32|16) points \(\d+ upper, \d+ lower\); minibatch \d+ of 13, epoch \d+$/);
    expect(await text("#stage-forward .stage-value")).toMatch(/^loss [\d.e-]+ · [\d.]+% of the minibatch right$/);
    expect(await text("#stage-backprop .stage-value")).toMatch(/^‖∇loss‖ = [\d.e-]+ over 354 parameters$/);
    expect(await text("#stage-update .stage-value")).toMatch(/^‖Δθ‖ = [\d.e-]+ \(lr 0\.01; ‖θ‖ = [\d.e-]+\)$/);
    expect(await page.$$eval("#train-stages li[aria-current=step]", (lis) => lis.map((li) => li.getAttribute("data-stage")))).toEqual(["update"]);
    expect(await text("#train-stage-title")).toBe(`Step ${n + 1} · Update done: the parameters have changed`);
    await shot("training-step");

    // One stage at a time: Sample; the counter waits for Update. Keys: Enter on the button, → for the rest.
    await page.click("#train-stage");
    await page.waitForSelector("#stage-sample[aria-current=step]");
    expect(await text("#train-steps")).toBe(String(n + 1));
    expect(await text("#stage-forward .stage-value")).toBe("next");
    expect(await text("#stage-backprop .stage-value")).toBe("…");
    expect(await text("#train-stage-title")).toBe(`Step ${n + 2} · Sample done; next: Forward`);
    await page.focus("#train-stage");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#stage-forward[aria-current=step]");
    await page.keyboard.press("ArrowRight");
    await waitSteps(n + 2);
    expect(await page.getAttribute("#stage-update", "aria-current")).toBe("step");

    // Reset: step 0, an empty curve, and the same starting figures (the seed fixes the weights).
    await page.click("#train-reset");
    await page.waitForSelector('#train[data-ready=true][data-steps="0"]');
    expect(await text("#train-steps")).toBe("0");
    expect(await text("#train-loss")).toBe(loss0);
    expect(await text("#train-acc")).toBe(acc0);
    expect(await page.getAttribute("#train-curve path.minibatch", "d")).toBe("");
    expect(await page.$$eval("#train-stages .stage-value", (vs) => vs.map((v) => v.textContent))).toEqual(["—", "—", "—", "—"]);
  });

  it("warns when training diverges (learning rate 3), and draws the loss on a log scale on request", async () => {
    await openTraining("?view=train&lr=3");
    expect(await page.isHidden("#train-warning")).toBe(true);
    await page.click("#train-step");
    await waitSteps(1);
    await page.click("#train-step");
    await waitSteps(2);
    await page.waitForSelector("#train-warning:not([hidden])");
    expect(await text("#train-warning")).toMatch(/^The loss jumped to [\d.]+ at step 2 \(from [\d.]+\): learning rate 3 makes the updates overshoot/);
    await page.check("#train-log");
    await page.waitForFunction(() => Array.from(document.querySelectorAll("#train-curve text.tick")).some((t) => t.textContent === "1k"));
    await shot("training-diverged");
  });

  it("restores training settings from a shared URL, keeps the URL up to date, and fits a phone (375px)", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    const train = { data: "spirals", hidden: [24, 24], act: "tanh", opt: "momentum", lr: 0.03, batch: 16, seed: 7, speed: "fast" } as const;
    const url = encodeState({ expr: null, point: null, view: "train", step: null, wrt: null, code: "py", train: { ...train, hidden: [24, 24] } });
    expect(url).toBe("?view=train&data=spirals&layers=24-24&act=tanh&opt=momentum&lr=0.03&batch=16&seed=7&speed=fast");
    await openTraining(url);
    const values = await page.$$eval("#train-form select, #train-form input, #train-speed", (els) => els.map((e) => [e.id, (e as HTMLInputElement).value]));
    expect(Object.fromEntries(values)).toEqual({
      "train-data": "spirals",
      "train-hidden": "24-24",
      "train-act": "tanh",
      "train-opt": "momentum",
      "train-lr": "0.03",
      "train-batch": "16",
      "train-seed": "7",
      "train-noise": "",
      "train-wd": "",
      "train-speed": "fast",
    });
    expect(await text("#train-network")).toBe("MLP 2-24-24-3 (tanh) · 747 parameters · 480 training and 120 test points");
    expect(await text("#train-cli")).toBe("gradgraph train --data spirals --model 2-24-24-3 --act tanh --opt momentum --lr 0.03 --batch 16 --seed 7");
    expect(await text("#train-legend")).toContain("arm 2");
    expect(new URL(page.url()).search).toBe(url);

    // Readable at phone width: nothing wider than the screen; every control has a name.
    await page.click("#train-step");
    await waitSteps(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    const unnamed = await page.$$eval("#train button, #train input, #train select", (els) =>
      els.filter((e) => {
        const label = e.getAttribute("aria-label") ?? (e.id ? document.querySelector(`label[for="${e.id}"]`)?.textContent : null) ?? e.textContent;
        return (label ?? "").trim() === "";
      }).map((e) => e.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    await shot("training-phone");

    // A new setting starts a new run and goes into the URL; a bad one is flagged and changes nothing.
    await page.selectOption("#train-data", "xor");
    await page.waitForSelector('#train[data-ready=true][data-steps="0"]');
    expect(await text("#train-network")).toContain("MLP 2-24-24-2 (tanh)");
    expect(new URL(page.url()).searchParams.get("data")).toBe("xor");
    await page.fill("#train-hidden", "24-x");
    await page.press("#train-hidden", "Enter");
    await page.waitForSelector("#train-hidden-error:not([hidden])");
    expect(await text("#train-hidden-error")).toBe('Hidden layers: "x" is not a layer size: write whole numbers joined by dashes, e.g. 16-16.');
    expect(await page.getAttribute("#train-hidden", "aria-invalid")).toBe("true");
    expect(new URL(page.url()).searchParams.get("layers")).toBe("24-24");

    // The expression views still work (the expression is read when one is first opened).
    await page.click("#tab-backprop");
    await page.waitForSelector("body[data-ready=true] #graph svg");
    expect(await page.isHidden("#train")).toBe(true);
    expect(new URL(page.url()).searchParams.get("data")).toBe("xor");
  });

  it("trains a small CNN on MNIST digits in a Web Worker, then predicts a digit drawn on the canvas with its probabilities", async () => {
    await openTraining();
    await page.click("#digits-train");
    await page.waitForSelector("#digits[data-ready=true]", { timeout: 150_000 });
    // The network is checked on 1,000 digits it did not train on.
    const status = await text("#digits-status");
    expect(status).toMatch(/^conv\(8,5\)-relu-maxpool\(2\)-flatten-linear\(10\) \(11,738 parameters\) trained in \d+\.\d s: (\d+\.\d)% of 1,000 other digits right/);
    expect(parseFloat(status.split(": ")[1]!)).toBeGreaterThan(85);
    // Draw a 1: one vertical stroke down the middle of the canvas.
    const box = (await page.locator("#digits-canvas").boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * (0.5 - 0.01 * i), box.y + box.height * (0.15 + 0.07 * i));
    await page.mouse.up();
    await page.waitForSelector("#digits-bars .bar.best");
    expect(await page.getAttribute("#digits", "data-predicted")).toBe("1");
    expect(await text("#digits-prediction")).toMatch(/^Prediction: 1 \(\d+\.\d%\)$/);
    const ps = await page.$$eval("#digits-bars .bar", (bars) => bars.map((b) => Number((b as HTMLElement).dataset["p"])));
    expect(ps).toHaveLength(10);
    expect(ps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(Math.max(...ps)).toBe(ps[1]);
    await shot("digits");
    await page.click("#digits-clear");
    expect(await page.$$eval("#digits-bars .bar", (bars) => bars.length)).toBe(0);
  }, 200_000);

  it("shows the training step compiled: counts pass by pass, what compiling did, the graph with fused kernels as clusters", async () => {
    await openTraining();
    expect(await page.isHidden("#compiled-body")).toBe(true);
    await page.click("#compiled-show");
    await page.waitForSelector("#compiled[data-ready=true] #compiled-graph svg", { timeout: 30_000 });
    const counts = await page.$$eval("#compiled-counts div", (ds) => Object.fromEntries(ds.map((d) => [d.querySelector("dt")!.textContent, d.querySelector("dd")!.textContent])));
    const kernels = Number(/→ (\d+)$/.exec(counts["Elementwise steps → fused kernels"]!)![1]);
    expect(kernels).toBeGreaterThan(0);
    // Adam on 2-16-16-2: six parameters and their twelve moment buffers updated in place.
    expect(counts["Updates in place"]).toBe("18");
    expect(await page.$$eval("#compiled-graph svg g.cluster", (gs) => gs.length)).toBe(kernels);
    // Each cluster is titled with its kernel; the instructions inside are nodes (relu's select among them).
    const titles = await page.$$eval("#compiled-graph svg g.cluster text", (ts) => ts.map((t) => t.textContent ?? ""));
    // (a kernel with several results, e.g. a layer's bias add and relu, names each: `kernel %4, %5 · …`)
    expect(titles.filter((t) => /^kernel %\d+(, %\d+)* · \d+ instructions?$/.test(t))).toHaveLength(kernels - 18);
    expect(titles.filter((t) => /^kernel %\d+ · \d+ instructions? · in place → /.test(t))).toHaveLength(18);
    expect(await page.$$eval("#compiled-graph svg g.node text", (ts) => ts.map((t) => t.textContent))).toContain("select");
    expect(await text("#compiled-explain")).toContain(`became ${kernels} kernels`);
    expect(await page.textContent("#compiled-text")).toContain("state 0.weight.exp_avg");
    await shot("compiled");
    // Fit to width: the whole graph in the panel's width.
    await page.click("#compiled-fit");
    const [panelWidth, svgWidth] = await page.$eval("#compiled-graph", (g) => [g.clientWidth, g.querySelector("svg")!.getBoundingClientRect().width]);
    expect(svgWidth).toBeLessThanOrEqual(panelWidth);
    expect(await page.getAttribute("#compiled-fit", "aria-pressed")).toBe("true");
    await page.locator("#compiled-graph").screenshot({ path: join(ARTIFACTS, "compiled-fit.png") });
    // Another optimizer: the panel compiles the new run's step (SGD: the six parameters only).
    await page.selectOption("#train-opt", "sgd");
    await page.waitForFunction(() => document.querySelector("#compiled")?.getAttribute("data-ready") === "true" && document.querySelector("#compiled-explain")?.textContent?.includes("the SGD update"));
    const after = await page.$$eval("#compiled-counts div", (ds) => ds.map((d) => d.textContent));
    expect(after).toContain("Updates in place6");
    // At phone width the graph scrolls inside its panel; the page does not overflow.
    await page.setViewportSize({ width: 375, height: 812 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
  });

  it("is keyboard accessible and readable at phone width (375px)", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await open();
    await typeLecture();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Tabs: arrow keys move between them.
    await page.focus("#tab-backprop");
    await page.keyboard.press("ArrowRight");
    expect(await page.getAttribute("#tab-forward", "aria-selected")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("tab-forward");
    await page.keyboard.press("ArrowLeft");
    // Every control can be reached with Tab and has a name.
    const unnamed = await page.$$eval("button, input, select, [tabindex='0']", (els) =>
      els.filter((el) => {
        const e = el as HTMLElement;
        const label = e.getAttribute("aria-label") ?? (e.id ? document.querySelector(`label[for="${e.id}"]`)?.textContent : null) ?? e.textContent;
        return e.offsetParent !== null && (label ?? "").trim() === "" && !e.closest("label");
      }).map((e) => e.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    await page.click("#phase-backward");
    await page.click("#next");
    // The graph scrolls inside its panel; the current node is scrolled into view.
    const visible = await page.evaluate(() => {
      const box = document.querySelector("#graph")!.getBoundingClientRect();
      const node = document.querySelector("#graph g.node.current")!.getBoundingClientRect();
      return node.left >= box.left && node.right <= box.right;
    });
    expect(visible).toBe(true);
    await shot("phone");
  });
});
