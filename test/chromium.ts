/**
 * Debian's Chromium for the tests that run code in a browser (playwright-core drives it; no browser is
 * downloaded): a folder served over HTTP on a free port, one page that collects uncaught errors and console errors.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import type { Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM);

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };

/**
 * Serves `dir`, opens `page` (a path in it) in headless Chromium and runs `fn`; `errors` collects the page's errors.
 * `args`: Chromium's flags (default: no GPU).
 */
export async function inChromium(dir: string, page: string, fn: (p: Page, errors: string[]) => Promise<void>, args = ["--disable-gpu"]): Promise<void> {
  const server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).slice(1) || "index.html");
    if (rel.startsWith("..")) return void res.writeHead(403).end();
    if (rel === "favicon.ico") return void res.writeHead(204).end(); // asked for by every page; none is needed
    readFile(join(dir, rel)).then(
      (body) => res.writeHead(200, { "content-type": TYPES[extname(rel)] ?? "application/octet-stream" }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", ...args] });
  try {
    const p = await browser.newPage();
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(e.message));
    p.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    await p.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/${page}`);
    await fn(p, errors);
  } finally {
    await browser.close();
    server.close();
  }
}
