// Parallel parsing returns facts by file index: the findings and their order never depend on the
// number of workers, with or without the prefilter and the cache.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { collectFacts } from "../src/collect.js";
import { discover } from "../src/discover.js";
import { lintFiles } from "../src/engine.js";
import { workerScript } from "../src/workers/pool.js";
import { FIXTURES } from "./harness.js";

const files = discover([FIXTURES], FIXTURES);
const tmp = mkdtempSync(path.join(tmpdir(), "mps-lint-workers-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("parse workers", () => {
  it("are built (npm run build) so the tests exercise them", () => {
    expect(workerScript()).not.toBeNull();
  });

  it("give the same facts as parsing in this thread", () => {
    const one = collectFacts(files, { jobs: 1 });
    const two = collectFacts(files, { jobs: 2 });
    const four = collectFacts(files, { jobs: 4 });
    expect(two.facts).toEqual(one.facts);
    expect(four.facts).toEqual(one.facts);
    expect(two.problems).toEqual(one.problems);
  });

  it("give the same findings in the same order whatever their number", () => {
    const base = lintFiles({ files });
    expect(base.diagnostics.length).toBeGreaterThan(0);
    for (const jobs of [1, 2, 3, 8]) {
      for (const prefilter of [false, true]) {
        const r = lintFiles({ files, jobs, prefilter });
        expect(r.diagnostics, `jobs=${jobs} prefilter=${prefilter}`).toEqual(base.diagnostics);
      }
      const cached = lintFiles({ files, jobs, prefilter: true, cacheDir: path.join(tmp, `c${jobs}`) });
      expect(cached.diagnostics).toEqual(base.diagnostics);
    }
  });
});
