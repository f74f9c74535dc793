// Issue 8: an internal error in one file's analysis must not lose the other files' findings.
// A failure is injected into fact extraction (for one file) and into a rule.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { lintFiles } from "../src/engine/engine.js";
import { defineRule } from "../src/engine/rule.js";
import { RULES } from "../rules/index.js";

vi.mock("../src/facts/extract.js", async (importOriginal) => {
  const orig = await importOriginal<typeof import("../src/facts/extract.js")>();
  return {
    ...orig,
    extractFacts: (file: string, text: string) => {
      if (file.endsWith("boom.py")) throw new RangeError("Maximum call stack size exceeded (injected)");
      return orig.extractFacts(file, text);
    },
  };
});

const SRC = "import threading\nimport torch\ndef worker():\n    torch.mps.synchronize()\nthreading.Thread(target=worker).start()\n";

function files(names: string[]): string[] {
  const d = mkdtempSync(path.join(os.tmpdir(), "mps-lint-iso-"));
  return names.map((n) => {
    writeFileSync(path.join(d, n), SRC);
    return path.join(d, n);
  });
}

describe("isolation of internal errors", () => {
  it("a crash extracting one file's facts becomes a warning naming it; the others are linted", () => {
    const fs = files(["a.py", "boom.py", "c.py"]);
    const r = lintFiles({ files: fs, rules: RULES });
    expect(r.diagnostics.map((d) => `${path.basename(d.file)} ${d.code}`)).toEqual(["a.py MPS001", "c.py MPS001"]);
    expect(r.problems).toEqual([
      { file: fs[1], message: "internal error while analysing this file (Maximum call stack size exceeded (injected)); not linted" },
    ]);
  });

  it("a rule that throws on one file loses only its own findings there", () => {
    const fs = files(["a.py", "b.py"]);
    const flaky = defineRule({
      meta: { ...RULES[1].meta, code: "MPS999", name: "flaky", messages: { flaky: "flaky" } },
      check(ctx) {
        if (ctx.facts.file.endsWith("a.py")) throw new Error("bug in a rule");
        ctx.report({ range: { start: { row: 0, column: 0 }, end: { row: 0, column: 1 } }, messageId: "flaky" });
      },
    });
    const r = lintFiles({ files: fs, rules: [flaky, ...RULES] });
    expect(r.diagnostics.map((d) => `${path.basename(d.file)} ${d.code}`)).toEqual(["a.py MPS001", "b.py MPS999", "b.py MPS001"]);
    expect(r.problems).toEqual([{ file: fs[0], message: "internal error in MPS999 (flaky): bug in a rule; this file's MPS999 findings may be incomplete" }]);
  });
});
