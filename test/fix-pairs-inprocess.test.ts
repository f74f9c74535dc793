// The fixture pairs of test/fix.test.ts (fixtures/fix/<case>.py -> <case>.fixed.py), fixed
// in-process through runLint (the CLI's own pipeline: lint, fix loop, relint, write) instead of
// the built bundle. Same expectation; the difference is reach: `npm run mutate` runs this file,
// so a mutant of a rule's fix (rules/<rule>.fix.ts, rules/support/edit-kit.ts) that changes an edit is seen here, while
// the CLI tests run dist/, which a mutant never reaches.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runLint } from "../src/main.js";
import { FIXTURES } from "./harness.js";

const CASES = readdirSync(path.join(FIXTURES, "fix"))
  .filter((f) => f.endsWith(".py") && !f.endsWith(".fixed.py"))
  .sort();

describe("in-process --fix --unsafe-fixes gives <case>.fixed.py", () => {
  it("there are fixture pairs", () => {
    expect(CASES.length).toBeGreaterThan(5);
  });

  for (const name of CASES) {
    it(`fix/${name}`, async () => {
      const input = path.join(FIXTURES, "fix", name);
      const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-fixpair-"));
      copyFileSync(input, path.join(dir, name));
      const out = await runLint({ paths: [name], cwd: dir, format: "json", quiet: true, exitZero: true, color: false, cache: false, isolated: true, fix: true, unsafeFixes: true, fixOnly: true });
      expect(out.stderr ?? "").not.toMatch(/not applied|no fixes applied|would not parse/);
      expect(readFileSync(path.join(dir, name), "utf8")).toBe(readFileSync(input.replace(/\.py$/, ".fixed.py"), "utf8"));
    });
  }
});
