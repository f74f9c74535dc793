// The prefilter with demand loading must not change what is found: every fixture project gives
// the same diagnostics, in the same order, with and without it; every rule's own example passes.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { discover } from "../src/files/discover.js";
import { lintFiles, prefilterFor } from "../src/engine/engine.js";
import { FIXTURES } from "./harness.js";
import { renderMessage } from "../src/reporters/message.js";

/** Each top-level file and each folder below a fixture folder is one project; all of fixtures/ is one more. */
function projects(): { name: string; files: string[] }[] {
  const out = [{ name: "all fixtures", files: discover([FIXTURES], FIXTURES) }];
  for (const group of readdirSync(FIXTURES).sort()) {
    const dir = path.join(FIXTURES, group);
    if (!statSync(dir).isDirectory()) continue;
    out.push({ name: group, files: discover([dir], dir) });
    for (const entry of readdirSync(dir).sort()) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) out.push({ name: `${group}/${entry}`, files: discover([full], full) });
      else if (entry.endsWith(".py")) out.push({ name: `${group}/${entry}`, files: [full] });
    }
  }
  return out;
}

// MPS000 reports syntax errors in the files parsed: with the prefilter, a file that names no token
// is not parsed, so its syntax errors are not seen (named files are: LintInput.parseAlways). These
// tests compare the rules whose findings the prefilter must not change.
const FILTERABLE = RULES.filter((r) => r.meta.code !== "MPS000");

const show = (r: ReturnType<typeof lintFiles>) =>
  r.diagnostics.map((d) => `${path.relative(FIXTURES, d.file)}:${d.range.start.row + 1}:${d.range.start.column + 1} ${d.code} ${renderMessage(d, { cwd: FIXTURES })}`);

describe("prefilter and demand loading", () => {
  for (const p of projects()) {
    it(`same findings with and without: ${p.name}`, () => {
      const plain = lintFiles({ files: p.files, rules: FILTERABLE });
      const filtered = lintFiles({ files: p.files, prefilter: true, rules: FILTERABLE });
      expect(show(filtered)).toEqual(show(plain));
      expect(filtered.diagnostics).toEqual(plain.diagnostics);
    });
  }

  it("skips files that cannot matter and loads cross-module helpers on demand", () => {
    const dir = path.join(FIXTURES, "device-sync-in-thread", "cross_module");
    const files = discover([dir], dir);
    const r = lintFiles({ files, prefilter: true, rules: FILTERABLE });
    // batch.py names no thread API: it is loaded because serve.py's spawn resolves through it.
    expect(r.stats!.demandLoaded).toBeGreaterThan(0);
    expect(r.diagnostics.map((d) => path.basename(d.file))).toEqual(["sync.py"]);
    const all = lintFiles({ files: discover([FIXTURES], FIXTURES), prefilter: true, rules: FILTERABLE });
    expect(all.stats!.skipped).toBeGreaterThan(0);
  });

  it("passes every rule's example", () => {
    const pf = prefilterFor(FILTERABLE);
    expect(pf).not.toBeNull();
    for (const rule of FILTERABLE) expect(pf!.test(rule.meta.example), rule.meta.code).toBe(true);
  });

  it("turns itself off for a rule it has no tokens for", () => {
    const mps001 = RULES.find((r) => r.meta.code === "MPS001")!;
    const { tokens: _, ...untokened } = mps001.meta;
    expect(prefilterFor([mps001, { ...mps001, meta: { ...untokened, code: "XYZ999" } }])).toBeNull();
    expect(prefilterFor(RULES)).not.toBeNull(); // every rule has tokens (MPS000: none needed)
    expect(prefilterFor([mps001], ["app.hooks.on_worker"])!.tokens).toContain("on_worker");
  });
});
