// The entry point table (src/project/entrypoints.ts) against what documents and exercises it:
// every row cites the framework's docs in docs/entry-points.md, the prefilter can see the file
// that registers it, and a fixture folder shows it found (an `# expect: MPS001` line).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ENTRY_POINTS, ENTRY_POINT_TOKENS, nameMatcher } from "../src/project/entrypoints.js";
import { prefilterFor } from "../src/engine/engine.js";
import { RULES } from "../rules/index.js";
import { FIXTURES } from "./harness.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const docs = readFileSync(path.join(ROOT, "docs", "entry-points.md"), "utf8");
const fixtureDir = path.join(FIXTURES, "device-sync-in-thread");
const fixtureText = readdirSync(fixtureDir, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".py"))
  .map((f) => readFileSync(path.join(fixtureDir, f), "utf8"))
  .join("\n");

describe("entry point table", () => {
  for (const row of ENTRY_POINTS) {
    const names = row.shape.t === "subclass" ? row.shape.bases : row.shape.t === "servicer" ? row.shape.servers : row.shape.callees;
    it(`${row.framework} ${row.role}: cited, visible to the prefilter, exercised by a fixture`, () => {
      expect(row.doc).toMatch(/^https:\/\//);
      expect(docs).toContain(row.doc);
      expect(docs).toContain(row.framework);
      // A file that registers the entry point spells one of the tokens.
      expect(names.some((n) => ENTRY_POINT_TOKENS.some((t) => n.includes(t)))).toBe(true);
      expect(fixtureText).toContain(row.module === "QtCore" ? "PyQt5.QtCore" : row.module);
    });
  }

  it("every token reaches the prefilter", () => {
    const filter = prefilterFor(RULES.filter((r) => r.meta.code === "MPS001"))!;
    for (const t of ENTRY_POINT_TOKENS) expect(filter.test(`x = ${t}`)).toBe(true);
  });

  it("name patterns: `**` spans dotted segments and calls, nothing else is a wildcard", () => {
    const gradio = nameMatcher(["gradio.**().click", "gradio.Interface"]);
    expect(gradio("gradio.Button().click")).toBe(true);
    expect(gradio("gradio.components.Button().click")).toBe(true);
    expect(gradio("gradio.Interface")).toBe(true);
    expect(gradio("gradiox.Button().click")).toBe(false);
    expect(gradio("gradio.Button().clicked")).toBe(false);
    expect(gradio("mygradio.Interface")).toBe(false);
  });
});
