// mps-lint bench: real torch on CPU, tiny sizes. Checks the tables, JSON and SVG come out.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { runBench } from "../src/verify/index.js";
import { runCli } from "./cli.js";

const PY = process.env.MPS_LINT_PYTHON ?? "/usr/bin/python3";
const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;

describe.skipIf(!hasTorch)("runBench", () => {
  it("prints the guide's tables, writes JSON and an SVG chart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-"));
    const json = join(dir, "b.json");
    const svg = join(dir, "b.svg");
    const args = ["--op", "matmul,linear", "--size", "32", "--batch", "4", "--threads", "1,2", "--min-time", "0.05", "--repeats", "2", "--warmup", "2", "--json", json, "--svg", svg];
    const code = await runBench(args, PY, { stdio: "pipe" });
    expect(code).toBe(0);
    const res = JSON.parse(readFileSync(json, "utf8"));
    expect(res.schema).toBe("mps-lint-bench/2");
    expect(res.environment.device).toBe("cpu");
    expect(res.config.dtypes).toEqual({ matmul: "float32", linear: "float32" }); // fp16 on CPU falls back, and says so
    expect(res.notes.join(" ")).toMatch(/float32/);
    expect(res.results).toHaveLength(2 * 3 * 2); // ops x modes x thread counts
    expect(res.pool).toHaveLength(2 * 2);
    for (const r of [...res.results, ...res.pool]) {
      // time-based cells: each repeat ran at least --min-time, median within min..max
      expect(r.repeats).toHaveLength(2);
      for (const x of r.repeats) {
        expect(x.wall_s).toBeGreaterThanOrEqual(0.05 * 0.9);
        expect(x.ops).toBeGreaterThan(0);
        // ops_per_s is computed before wall_s is rounded for the JSON: equal to within rounding.
        expect(Math.abs(x.ops_per_s - x.ops / x.wall_s) / x.ops_per_s).toBeLessThan(1e-4);
      }
      expect(r.ops_per_s_min).toBeLessThanOrEqual(r.ops_per_s);
      expect(r.ops_per_s).toBeLessThanOrEqual(r.ops_per_s_max);
      expect(r.regime).toBe("host-bound"); // CPU: every op is host work
      expect(r.busy_fraction).toBeNull();
    }
    for (const q of res.ratios) {
      expect(q.min).toBeLessThanOrEqual(q.median);
      expect(q.median).toBeLessThanOrEqual(q.max);
      expect(q.measurable).toBe(!(q.min <= 1 && 1 <= q.max));
    }
    expect(res.ratios).toHaveLength(2 * 2);
    const s = readFileSync(svg, "utf8");
    expect(s.startsWith("<svg")).toBe(true);
    expect((s.match(/<polyline/g) ?? []).length).toBe(2 * 4); // per op: device, event, none, pool
    expect(s).toContain("mechanics only");
  }, 90_000);

  it("prints the tables to stdout", () => {
    const r = spawnSync(PY, ["-m", "mps_lint_verify.bench", "--op", "matmul", "--size", "16", "--threads", "1,2", "--min-time", "0.05", "--repeats", "2", "--warmup", "1", "--no-process-pool", "--sync-mode", "device,event"], {
      env: { ...process.env, PYTHONPATH: join(import.meta.dirname, "../native-verify") },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| Threads \| Device sync \(ops\/s\) +\| Event sync \(ops\/s\) +\| Event\/Device ratio +\| Regime \(GPU busy\) +\|/);
    // median (min-max) per cell; the ratio with its spread, or "no measurable difference"
    expect(r.stdout).toMatch(/\| 2 +\| [\d,]+ \([\d,]+-[\d,]+\) +\| [\d,]+ \([\d,]+-[\d,]+\) +\| [\d.]+x \([\d.]+-[\d.]+(: no measurable difference)?\) +\| host-bound +\|/);
    expect(r.stdout).toContain("host-bound: CPU run");
    expect(r.stdout).toMatch(/\| 2 threads \+ event sync +\| [\d,]+ +\| [\d.]+% +\|/);
    expect(r.stdout).toContain("2-thread scaling vs 1-thread: device sync");
  }, 60_000);

  it("takes the bench flags through the CLI, before or after --", () => {
    for (const sep of [[], ["--"]]) {
      const dir = mkdtempSync(join(tmpdir(), "bench-cli-"));
      const json = join(dir, "b.json");
      const r = runCli(["bench", "--python", PY, ...sep, "--op", "matmul", "--size", "16", "--threads", "1,3", "--min-time", "0.05", "--repeats", "1", "--warmup", "1", "--no-process-pool", "--sync-mode", "device", "--json", json]);
      expect(r.code).toBe(0);
      const res = JSON.parse(readFileSync(json, "utf8"));
      expect(res.results.map((x: { threads: number }) => x.threads)).toEqual([1, 3]);
    }
  }, 90_000);
});
