// Parallel parsing returns facts by file index: the findings and their order never depend on the
// number of workers, with or without the prefilter and the cache.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { collectFacts } from "../src/facts/collect.js";
import { discover } from "../src/files/discover.js";
import { lintFiles } from "../src/engine/engine.js";
import { resetTiming, timingReport } from "../src/timing.js";
import { workerScript } from "../src/facts/workers/pool.js";
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
    const base = lintFiles({ files, rules: RULES });
    expect(base.diagnostics.length).toBeGreaterThan(0);
    for (const jobs of [1, 2, 3, 8]) {
      for (const prefilter of [false, true]) {
        const r = lintFiles({ files, rules: RULES, jobs, prefilter });
        expect(r.diagnostics, `jobs=${jobs} prefilter=${prefilter}`).toEqual(base.diagnostics);
      }
      const cached = lintFiles({ files, rules: RULES, jobs, prefilter: true, cacheDir: path.join(tmp, `c${jobs}`) });
      expect(cached.diagnostics).toEqual(base.diagnostics);
    }
  });

  it("parse imported modules ahead of need, and the analysis takes them from there (prefetch)", () => {
    // Every rule but MPS000 (which needs every file parsed, so turns the prefilter off).
    const rules = RULES.filter((rule) => rule.meta.code !== "MPS000");
    resetTiming();
    const r = lintFiles({ files, jobs: 2, prefilter: true, rules });
    const counts = timingReport().counts;
    // Demand loads are served by files the workers parsed in the background...
    expect(r.stats!.demandLoaded).toBeGreaterThan(0);
    expect(counts.prefetchUsed ?? 0).toBeGreaterThan(0);
    // ...and only files the analysis asked for join it (a prefetched file nobody asks for is dropped).
    expect(r.stats!.analyzed).toBe(lintFiles({ files, jobs: 1, prefilter: true, rules }).stats!.analyzed);
    expect(r.diagnostics).toEqual(lintFiles({ files, rules }).diagnostics);
  });
});
