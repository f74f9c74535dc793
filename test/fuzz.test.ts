// Fuzzing (fast-check): see test/fuzz-core.ts. `npm test` runs a quick round (a few seconds);
// `npm run fuzz` runs MPS_LINT_FUZZ_RUNS inputs (default there: 5000) and prints the counts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkProject, checkSingle, CORPUS, newStats, projectArb, PROJECTS, singleArb } from "./fuzz-core.js";

const RUNS = Number(process.env.MPS_LINT_FUZZ_RUNS ?? 300);
const SEED = process.env.MPS_LINT_FUZZ_SEED !== undefined ? Number(process.env.MPS_LINT_FUZZ_SEED) : undefined;
const LONG = process.env.MPS_LINT_FUZZ_RUNS !== undefined;
const timeout = Math.max(60_000, RUNS * 200);

describe("fuzz: mutated fixtures never crash, hang or differ between runs", () => {
  it("has a corpus", () => {
    expect(CORPUS.length).toBeGreaterThan(20);
    expect(PROJECTS.length).toBeGreaterThan(0);
  });

  it(`single files through the whole pipeline (${RUNS} inputs)`, async () => {
    const stats = newStats();
    await fc.assert(fc.asyncProperty(singleArb(), (input) => checkSingle(input, stats)), { numRuns: RUNS, seed: SEED, endOnFailure: true });
    if (LONG) console.log(`fuzz single: ${JSON.stringify(stats)}`);
    expect(stats.single).toBe(RUNS);
  }, timeout);

  it(`multi-module projects, every file mutated (${Math.ceil(RUNS / 3)} projects)`, () => {
    const stats = newStats();
    fc.assert(fc.property(projectArb(), ({ files, inputs }) => checkProject(files, inputs, stats)), { numRuns: Math.ceil(RUNS / 3), seed: SEED, endOnFailure: true });
    if (LONG) console.log(`fuzz projects: ${JSON.stringify(stats)}`);
    expect(stats.projects).toBe(Math.ceil(RUNS / 3));
  }, timeout);
});
