// The timing report counts every file loaded on demand under the rule (or setup stage) that asked
// for its module and the mechanism that looked it up (bench/results.md prints the table).
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { discover } from "../src/files/discover.js";
import { lintFiles } from "../src/engine/engine.js";
import { resetTiming, timingReport } from "../src/timing.js";
import { FIXTURES } from "./harness.js";

const FILTERABLE = RULES.filter((r) => r.meta.code !== "MPS000");
const STAGE = /^(project setup|MPS\d{3}( on a loaded module)?)$/;
const MECHANISM = /^(parameter values|star import|compiled extensions|name resolution)$/;

function loadCounts(files: string[]) {
  resetTiming();
  const r = lintFiles({ files, prefilter: true, rules: FILTERABLE });
  const loads = Object.entries(timingReport().counts).filter(([k]) => k.startsWith("load:"));
  return { demandLoaded: r.stats!.demandLoaded, loads };
}

describe("demand loads by reason", () => {
  it("accounts for every file loaded on demand, each under a rule or setup and a mechanism", () => {
    const { demandLoaded, loads } = loadCounts(discover([FIXTURES], FIXTURES));
    expect(demandLoaded).toBeGreaterThan(0);
    expect(loads.reduce((a, [, n]) => a + n, 0)).toBe(demandLoaded);
    for (const [key] of loads) {
      const [, stage, mechanism] = key.split(":");
      expect(stage, key).toMatch(STAGE);
      expect(mechanism, key).toMatch(MECHANISM);
    }
  });

  it("names the thread analysis for a helper a spawn site resolves through", () => {
    // serve.py spawns a thread whose target is imported from batch.py (which names no thread API).
    const dir = path.join(FIXTURES, "device-sync-in-thread", "cross_module");
    const { demandLoaded, loads } = loadCounts(discover([dir], dir));
    expect(demandLoaded).toBeGreaterThan(0);
    expect(loads.map(([k]) => k)).toContain("load:project setup:name resolution");
  });
});
