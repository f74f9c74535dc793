// Rule documentation generated from rule meta: docs/rules/<name>.md in Ruff's layout and an
// index grouped by category. `mps-lint rule CODE` prints the same Markdown.
//
//   node dist/src/docs/docs.js          write docs/rules/ (npm run docs)
//   node dist/src/docs/docs.js --check  exit 1 when the committed pages are stale (npm run docs:check)

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { RULES } from "../../rules/index.js";
import { DOCS_BASE, type Category, type Rule, type RuleMeta } from "../engine/rule.js";

export const CATEGORY_TITLES: Record<Category, string> = {
  threads: "Threads",
  correctness: "Correctness",
  timing: "Timing",
  async: "Async",
  portability: "Portability",
};

const CATEGORY_ORDER: Category[] = ["threads", "correctness", "timing", "async", "portability"];

function fixLine(meta: RuleMeta): string {
  if (meta.fixable === "safe") return "Fix is sometimes available (safe).";
  if (meta.fixable === "unsafe") return "Fix is sometimes available (unsafe).";
  return "No automatic fix.";
}

/** One rule's page: Markdown, Ruff's sections. */
export function renderRule(meta: RuleMeta): string {
  const lines: string[] = [
    `# ${meta.name} (${meta.code})`,
    "",
    `Severity: ${meta.severity} · Category: ${CATEGORY_TITLES[meta.category]} · ${fixLine(meta)}${meta.optIn ? " · Off by default (opt in with `--extend-select " + meta.code + "`)." : ""}`,
    "",
    "## What it does",
    "",
    meta.summary,
    "",
    "## Why is this bad?",
    "",
    meta.why,
    "",
    "## Example",
    "",
    "```python",
    meta.example.replace(/\s+$/, ""),
    "```",
    "",
    "## Use instead",
    "",
    "```python",
    meta.useInstead.replace(/\s+$/, ""),
    "```",
    "",
    "## Fix safety",
    "",
    meta.fixSafety,
    "",
    "## Known limitations",
    "",
    meta.limitations,
    "",
    "## References",
    "",
    // The guide is the user's design document; docs/guide.md restates it in the repository.
    ...meta.references.map((r) => `- ${r.replace(/^MPS_SYNC_MODE_GUIDE\.md(?=:)/, "[The guide](../guide.md)")}`),
    "",
  ];
  return lines.join("\n");
}

/** docs/rules/index.md: every rule, grouped by category. */
export function renderIndex(rules: readonly Rule[]): string {
  const out: string[] = [
    "# Rules",
    "",
    "Generated from the rule definitions (`npm run docs`); do not edit by hand.",
    "",
    "Severity is the default; `--select`, `--ignore` and the configuration change which rules run.",
    "",
  ];
  for (const cat of CATEGORY_ORDER) {
    const inCat = rules.filter((r) => r.meta.category === cat);
    if (inCat.length === 0) continue;
    out.push(`## ${CATEGORY_TITLES[cat]}`, "", "| Code | Name | Severity | Fix | Summary |", "|------|------|----------|-----|---------|");
    for (const { meta } of inCat) {
      const fix = meta.fixable ?? "";
      const summary = meta.summary.replace(/\|/g, "\\|");
      out.push(`| ${meta.code} | [${meta.name}](${meta.name}.md) | ${meta.severity} | ${fix} | ${summary} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

/** Every generated file under docs/rules, by file name. */
export function renderAll(rules: readonly Rule[] = RULES): Map<string, string> {
  const files = new Map<string, string>();
  for (const r of rules) files.set(`${r.meta.name}.md`, renderRule(r.meta));
  files.set("index.md", renderIndex(rules));
  return files;
}

/** Stale, missing or extra pages in `dir` (empty when current). */
export function staleDocs(dir: string, rules: readonly Rule[] = RULES): string[] {
  const want = renderAll(rules);
  const problems: string[] = [];
  for (const [name, text] of want) {
    const file = path.join(dir, name);
    if (!existsSync(file)) problems.push(`${name}: missing`);
    else if (readFileSync(file, "utf8") !== text) problems.push(`${name}: out of date`);
  }
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) if (name.endsWith(".md") && !want.has(name)) problems.push(`${name}: no such rule`);
  }
  return problems;
}

export function writeDocs(dir: string, rules: readonly Rule[] = RULES): string[] {
  mkdirSync(dir, { recursive: true });
  const want = renderAll(rules);
  for (const name of readdirSync(dir)) if (name.endsWith(".md") && !want.has(name)) rmSync(path.join(dir, name));
  const written: string[] = [];
  for (const [name, text] of want) {
    const file = path.join(dir, name);
    if (existsSync(file) && readFileSync(file, "utf8") === text) continue;
    writeFileSync(file, text);
    written.push(name);
  }
  return written;
}

function main(argv: string[]): number {
  const dir = path.resolve(process.cwd(), DOCS_BASE);
  if (argv.includes("--check")) {
    const problems = staleDocs(dir);
    if (problems.length === 0) return 0;
    process.stderr.write(`${DOCS_BASE} is stale; run \`npm run docs\`:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
    return 1;
  }
  const written = writeDocs(dir);
  process.stdout.write(written.length > 0 ? `wrote ${written.map((w) => `${DOCS_BASE}/${w}`).join(", ")}\n` : `${DOCS_BASE} is up to date\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
