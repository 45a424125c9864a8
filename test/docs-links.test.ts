/**
 * Every relative link and image in the repository's Markdown (README, ARCHITECTURE, BENCHMARKS, docs/, the
 * packages' and the explorer's READMEs, examples/) points to a file or folder that exists, and a `#anchor` to a
 * heading of the page it names (GitHub's anchors: github-slugger). Links are read with markdown-it, so code
 * blocks and inline code are not links.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import GithubSlugger from "github-slugger";
import MarkdownIt from "markdown-it";
import { expect, test } from "vitest";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const md = new MarkdownIt({ html: true });

const inDir = (dir: string) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((f) => f.endsWith(".md")).map((f) => join(dir, f)) : []);
const pages = [
  "README.md",
  "ARCHITECTURE.md",
  "BENCHMARKS.md",
  "web/README.md",
  ...inDir("docs"),
  ...inDir("examples"),
  ...readdirSync(join(root, "packages")).map((p) => join("packages", p, "README.md")),
].filter((p, i, all) => existsSync(join(root, p)) && all.indexOf(p) === i);

/** The links (hrefs and image sources) of a Markdown text, in order. */
function linksOf(text: string): string[] {
  const out: string[] = [];
  const walk = (tokens: ReturnType<typeof md.parse>) => {
    for (const t of tokens) {
      const target = t.type === "link_open" ? t.attrGet("href") : t.type === "image" ? t.attrGet("src") : null;
      if (target !== null) out.push(String(target));
      if (t.children) walk(t.children);
    }
  };
  walk(md.parse(text, {}));
  return out;
}

/** The anchors GitHub gives a page's headings (`## The CLI` → `the-cli`; repeats get -1, -2, …). */
function anchorsOf(text: string): Set<string> {
  const slugger = new GithubSlugger();
  const tokens = md.parse(text, {});
  const anchors = new Set<string>();
  tokens.forEach((t, i) => {
    if (t.type !== "heading_open") return;
    const plain = (tokens[i + 1]?.children ?? []).filter((c) => c.type === "text" || c.type === "code_inline").map((c) => c.content).join("");
    anchors.add(slugger.slug(plain));
  });
  return anchors;
}

/** What is wrong with one relative link of `page`, or null. */
function problem(page: string, link: string): string | null {
  const [rawPath = "", anchor] = link.split("#", 2);
  const path = decodeURIComponent(rawPath);
  const target = path === "" ? join(root, page) : resolve(dirname(join(root, page)), path);
  const shown = relative(root, target) || ".";
  if (!target.startsWith(root)) return `${link}: points outside the repository`;
  if (!existsSync(target)) return `${link}: ${shown} does not exist`;
  if (anchor === undefined || anchor === "") return null;
  if (!statSync(target).isFile() || !target.endsWith(".md")) return `${link}: an anchor into ${shown}, which is not a Markdown page`;
  return anchorsOf(readFileSync(target, "utf8")).has(anchor) ? null : `${link}: ${shown} has no heading with the anchor #${anchor}`;
}

const external = /^([a-z][a-z0-9+.-]*:|\/\/)/i; // https:, mailto:, data:, protocol-relative

test("the pages checked include the README, ARCHITECTURE and the docs", () => {
  expect(pages).toEqual(expect.arrayContaining(["README.md", "ARCHITECTURE.md", "docs/README.md"]));
});

test.each(pages)("every relative link in %s resolves", (page) => {
  const broken = linksOf(readFileSync(join(root, page), "utf8"))
    .filter((l) => !external.test(l))
    .map((l) => problem(page, l))
    .filter((p) => p !== null);
  expect(broken, `${page}: broken links`).toEqual([]);
});

test("the checker finds broken files and anchors, and not links in code", () => {
  expect(linksOf("[a](x.md) `[b](y.md)`\n\n```\n[c](z.md)\n```\n![d](e.png)")).toEqual(["x.md", "e.png"]);
  expect(problem("docs/README.md", "nowhere.md")).toBe("nowhere.md: docs/nowhere.md does not exist");
  expect(problem("docs/README.md", "../README.md#no-such-heading")).toBe("../README.md#no-such-heading: README.md has no heading with the anchor #no-such-heading");
  expect(anchorsOf("# The CLI\n## `grad`: the value\n## The CLI")).toEqual(new Set(["the-cli", "grad-the-value", "the-cli-1"]));
});
