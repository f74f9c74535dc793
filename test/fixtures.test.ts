// Every rule against its annotated fixtures (test/harness.ts): the flagged lines must match the
// markers exactly, and each case's findings (range, message, witness, fix) must match the
// committed snapshot under test/snapshots/fixtures/ (`npm run test:update` rewrites them).
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { lintFiles } from "../src/engine/engine.js";
import { FIXTURES, SNAPSHOTS, fixtureCases, markers, pythonFilesUnder, renderCase, runCase } from "./harness.js";
import { renderMessage } from "../src/reporters/message.js";

for (const rule of RULES) {
  const dir = path.join(FIXTURES, rule.meta.name);
  describe(`${rule.meta.code} ${rule.meta.name}`, () => {
    it("has a fixture folder with flagged lines", () => {
      expect(existsSync(dir)).toBe(true);
      const total = fixtureCases(dir).reduce((n, c) => n + runCase(rule, c).expected, 0);
      expect(total).toBeGreaterThan(0);
    });
    for (const c of existsSync(dir) ? fixtureCases(dir) : []) {
      it(c.name, async () => {
        const r = runCase(rule, c);
        expect({ missing: r.missing, noisy: r.noisy, todoNowFlagged: r.todoFlagged }).toEqual({ missing: [], noisy: [], todoNowFlagged: [] });
        await expect(r.rendered).toMatchFileSnapshot(path.join(SNAPSHOTS, rule.meta.name, `${c.name}.txt`));
      });
    }
  });
}

describe("fixture files declare what they expect", () => {
  // A file with no marker would pass if its rule returned nothing: each says what it wants, an
  // `# expect: CODE` or an `# expect-none` (an intended negative), or `# ok:` / `# todo:` lines.
  const ruleDirs = RULES.map((r) => path.join(FIXTURES, r.meta.name)).filter(existsSync);
  it("every rule fixture file carries an expect, expect-none, ok or todo marker", () => {
    const files = ruleDirs.flatMap(pythonFilesUnder);
    expect(files.length).toBeGreaterThan(20);
    const undeclared = files.filter((f) => !markers(f, "").declared).map((f) => path.relative(FIXTURES, f));
    expect(undeclared).toEqual([]);
  });

  it("an expect-none file has no finding of its folder's rule, and no expect marker for it", () => {
    for (const rule of RULES) {
      const dir = path.join(FIXTURES, rule.meta.name);
      if (!existsSync(dir)) continue;
      for (const c of fixtureCases(dir)) {
        const none = c.files.filter((f) => markers(f, rule.meta.code).none);
        if (none.length === 0) continue;
        const r = runCase(rule, c);
        for (const f of none) {
          expect(markers(f, rule.meta.code).expect, f).toEqual([]);
          expect(r.diagnostics.filter((d) => d.file === f).map((d) => renderMessage(d, { cwd: c.root })), f).toEqual([]);
        }
      }
    }
  });
});

describe("clean code", () => {
  it("gives no finding under any rule", () => {
    const dir = path.join(FIXTURES, "clean");
    const files = pythonFilesUnder(dir);
    expect(files.length).toBeGreaterThan(0);
    const result = lintFiles({ files, rules: RULES });
    expect(renderCase(result.diagnostics, dir)).toBe("(no findings)\n");
  });
});
