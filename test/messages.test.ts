// Findings carry a messageId and data; the text is rendered for the reader (src/reporters/message.ts).
// Rules never put locations into text: a location is data, rendered relative to the finding.
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { lintFiles } from "../src/engine/engine.js";
import { defineRule } from "../src/engine/rule.js";
import { extractFacts } from "../src/facts/extract.js";
import { lineText, renderMessage, witnessText } from "../src/reporters/message.js";
import { readPython } from "../src/files/source.js";
import { applySuppressions, UNUSED_SUPPRESSION } from "../src/suppress/suppress.js";
import { runCli } from "./cli.js";
import { FIXTURES, fixtureCases, pythonFilesUnder, runCase } from "./harness.js";
import { project } from "./project.js";

/** Text that names a place: "line 12", "serve.py:12". */
const RENDERED_LOCATION = /\bline \d|\.pyi?:\d|\.ipynb:\d/;

describe("messages: templates and data", () => {
  it("every rule declares its templates, and no template spells a location", () => {
    for (const rule of RULES) {
      expect(Object.keys(rule.meta.messages).length, rule.meta.code).toBeGreaterThan(0);
      for (const t of Object.values(rule.meta.messages)) expect(t, rule.meta.code).not.toMatch(RENDERED_LOCATION);
    }
  });

  it("every fixture finding: a declared messageId, every placeholder filled, locations only as data", () => {
    let checked = 0;
    for (const rule of RULES) {
      const dir = path.join(FIXTURES, rule.meta.name);
      if (!existsSync(dir)) continue;
      for (const c of fixtureCases(dir)) {
        for (const d of runCase(rule, c).diagnostics) {
          checked++;
          expect(Object.keys(rule.meta.messages), `${d.file} ${d.code}`).toContain(d.messageId);
          const text = renderMessage(d, { cwd: c.root });
          expect(text, `${d.file}:${d.range.start.row + 1}`).not.toMatch(/\{\{/);
          for (const [k, v] of Object.entries(d.data)) {
            if (typeof v === "string") expect(v, `${d.code} data.${k}`).not.toMatch(RENDERED_LOCATION);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("a report with a messageId its rule does not declare is an internal error of that rule, not a finding", () => {
    const file = path.join(FIXTURES, "device-sync-in-thread", "cross_module", "app", "serve.py");
    const typo = defineRule({
      meta: { ...RULES[1].meta, code: "MPS998", name: "typo", messages: { declared: "declared" } },
      check(ctx) {
        ctx.report({ range: { start: { row: 0, column: 0 }, end: { row: 0, column: 1 } }, messageId: "undeclared" });
      },
    });
    const r = lintFiles({ files: [file], rules: [typo] });
    expect(r.diagnostics).toEqual([]);
    expect(r.problems.map((p) => p.message)).toEqual(['internal error in MPS998 (typo): reported unknown messageId "undeclared"; this file\'s MPS998 findings may be incomplete']);
  });

  it("a location in the finding's file is a line, in another file a path from the working folder, in a notebook a cell", () => {
    const here = "/p/pkg/app.py";
    const cells = new Map([["/p/nb/demo.ipynb", [{ cell: 2, row: 0 }, { cell: 2, row: 1 }, { cell: 4, row: 0 }]]]);
    const ctx = { cwd: "/p", cellsOf: (f: string) => cells.get(f) };
    expect(lineText({ file: here, row: 11 }, here, ctx)).toBe("line 12");
    expect(lineText({ file: "/p/pkg/engine/batch.py", row: 386 }, here, ctx)).toBe("pkg/engine/batch.py:387");
    expect(lineText({ file: "/elsewhere/util.py", row: 0 }, here, ctx)).toBe("/elsewhere/util.py:1");
    expect(lineText({ file: "/p/nb/demo.ipynb", row: 2 }, "/p/nb/demo.ipynb", ctx)).toBe("cell 4, line 1");
    expect(lineText({ file: "/p/nb/demo.ipynb", row: 1 }, here, ctx)).toBe("nb/demo.ipynb (cell 2, line 2)");
    // A file name with a newline cannot forge a second line in a line format.
    expect(lineText({ file: "/p/a\nb.py", row: 0 }, here, ctx)).toBe("a\\nb.py:1");
    const step = (file: string, row: number, label: string) => ({ file, label, range: { start: { row, column: 0 }, end: { row, column: 1 } } });
    expect(witnessText([step("/p/pkg/serve.py", 11, "Thread(target=worker)"), step("/p/pkg/serve.py", 5, "worker"), step(here, 3, "wait_all")], here, ctx)).toBe(
      "reached from Thread(target=worker) at pkg/serve.py:12 via worker -> wait_all (line 4)",
    );
  });
});

describe("MPS100 comes from its rule, over the suppression stage's facts", () => {
  const files = pythonFilesUnder(path.join(FIXTURES, "unused-suppression"));
  const result = lintFiles({ files, rules: RULES });
  const comments = new Map(result.facts.map((f) => [f.file, f.comments]));
  const all = new Set(RULES.map((r) => r.meta.code));
  const stage = (directiveRules: typeof RULES) =>
    applySuppressions({ diagnostics: result.diagnostics, files, comments: (f) => comments.get(f) ?? [], source: result.source, enabled: () => all, directiveRules });

  it("the suppression stage alone reports no finding; with the rule it does, at the directives", () => {
    expect(stage([]).fromDirectives).toEqual([]);
    const found = stage(RULES.filter((r) => r.checkDirectives)).fromDirectives;
    expect(found.length).toBeGreaterThan(0);
    for (const d of found) {
      expect(d.code).toBe(UNUSED_SUPPRESSION);
      const line = readPython(d.file).text.split("\n")[d.range.start.row];
      expect(line.slice(d.range.start.column)).toMatch(/^#\s*(noqa|mps-lint)/i);
      // The comment it names is there in the file's comments.
      expect(extractFacts(d.file, readPython(d.file).text).comments.some((c) => c.row === d.range.start.row)).toBe(true);
    }
  });

  it("through the CLI: the message names the directive and the unused codes", () => {
    const dir = project({ "main.py": "import torch\n\ndef f(x):\n    return x  # noqa: MPS001, MPS003\n" });
    const r = runCli(["-f", "json", "--extend-select", "MPS100", "main.py"], { cwd: dir });
    const out = JSON.parse(r.stdout) as { code: string; message: string }[];
    expect(out.map((d) => d.code)).toEqual(["MPS100"]);
    expect(out[0].message).toBe("unused suppression: `# noqa: MPS001, MPS003` suppresses nothing for MPS001, MPS003; remove it");
  });
});
