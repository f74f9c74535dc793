import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { lintFiles } from "../src/engine.js";
import { discover } from "../src/discover.js";
import { FIXTURES, fixtureCases, runCase } from "./harness.js";

for (const rule of RULES) {
  const dir = path.join(FIXTURES, rule.meta.name);
  describe(`${rule.meta.code} ${rule.meta.name}`, () => {
    it("has a fixture folder with flagged lines", () => {
      expect(existsSync(dir)).toBe(true);
      const total = fixtureCases(dir).reduce((n, c) => n + runCase(rule, c.files, c.name).expected, 0);
      expect(total).toBeGreaterThan(0);
    });
    for (const c of existsSync(dir) ? fixtureCases(dir) : []) {
      it(c.name, () => {
        const r = runCase(rule, c.files, c.name);
        expect({ missing: r.missing, noisy: r.noisy }).toEqual({ missing: [], noisy: [] });
      });
    }
  });
}

describe("clean code", () => {
  it("gives no finding under any rule", () => {
    const dir = path.join(FIXTURES, "clean");
    const files = discover([dir], dir);
    expect(files.length).toBeGreaterThan(0);
    const result = lintFiles({ files });
    expect(result.diagnostics.map((d) => `${path.basename(d.file)}:${d.range.start.row + 1} ${d.code}`)).toEqual([]);
  });
});
