// Docs claim only options that exist: every `--option` a document about mps-lint names is one the
// CLI accepts (src/cli/cli.ts), so a removed or renamed option cannot linger in the docs (issue 19:
// docs/reliability.md said there was no cache and no --jobs long after both existed).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "./cli.js";

/** Long options in `mps-lint --help`, `mps-lint rule --help` and `mps-lint trace --help` (and their --no- forms). */
function knownOptions(): Set<string> {
  const help = runCli(["--help"]).stdout + runCli(["rule", "--help"]).stdout + runCli(["trace", "--help"]).stdout;
  const names = [...help.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]);
  expect(names.length).toBeGreaterThan(20);
  return new Set(names.flatMap((n) => [n, `no-${n}`, n.replace(/^no-/, "")]));
}

// Documents about other programs' flags: the verify harness scripts (python bench.py --batch ...).
const OTHER_PROGRAMS = new Set(["verify.md", "verify-results.md"]);
// Flags of other commands quoted in our docs (npm install --global --ignore-scripts --omit
// --save-dev, git diff --name-only, Stryker's --mutate, pip install --no-deps --no-index; an entry's
// own argument).
const FOREIGN = new Set(["global", "flag", "ignore-scripts", "omit", "save-dev", "name-only", "mutate", "no-deps", "no-index"]);

function documents(): string[] {
  const docs = readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md") && !OTHER_PROGRAMS.has(f));
  return ["README.md", ...docs.map((f) => path.join("docs", f))];
}

describe("docs name only options that exist", () => {
  it("every --option in README.md and docs/*.md is an option of mps-lint", () => {
    const known = knownOptions();
    const unknown: string[] = [];
    for (const doc of documents()) {
      const text = readFileSync(path.join(ROOT, doc), "utf8");
      for (const m of text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)) {
        if (!known.has(m[1]) && !FOREIGN.has(m[1])) unknown.push(`${doc}: --${m[1]}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it("the check sees an option that does not exist", () => {
    const known = knownOptions();
    expect(known.has("jobs")).toBe(true);
    expect(known.has("no-cache")).toBe(true);
    expect(known.has("no-such-option")).toBe(false);
  });

  it("docs/reliability.md no longer says there is no cache or no --jobs", () => {
    const text = readFileSync(path.join(ROOT, "docs", "reliability.md"), "utf8");
    expect(text).not.toMatch(/no cache on disk|no `--jobs` option/);
  });
});
