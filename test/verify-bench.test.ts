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
    const args = ["--op", "matmul,linear", "--size", "32", "--batch", "4", "--threads", "1,2", "--iters", "10", "--warmup", "2", "--json", json, "--svg", svg];
    const code = await runBench(args, PY, { stdio: "pipe" });
    expect(code).toBe(0);
    const res = JSON.parse(readFileSync(json, "utf8"));
    expect(res.schema).toBe("mps-lint-bench/1");
    expect(res.environment.device).toBe("cpu");
    expect(res.config.dtype).toBe("float32"); // fp16 on CPU falls back, and says so
    expect(res.notes.join(" ")).toMatch(/float32/);
    expect(res.results).toHaveLength(2 * 3 * 2); // ops x modes x thread counts
    expect(res.pool).toHaveLength(2 * 2);
    for (const r of [...res.results, ...res.pool]) {
      expect(r.ops).toBe(r.threads * 10);
      expect(r.ops_per_s).toBeGreaterThan(0);
    }
    const s = readFileSync(svg, "utf8");
    expect(s.startsWith("<svg")).toBe(true);
    expect((s.match(/<polyline/g) ?? []).length).toBe(2 * 4); // per op: device, event, none, pool
    expect(s).toContain("mechanics only");
  }, 90_000);

  it("prints the tables to stdout", () => {
    const r = spawnSync(PY, ["-m", "mps_lint_verify.bench", "--op", "matmul", "--size", "16", "--threads", "1,2", "--iters", "5", "--warmup", "1", "--no-process-pool", "--sync-mode", "device,event"], {
      env: { ...process.env, PYTHONPATH: join(import.meta.dirname, "../native-verify") },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("| Threads | Device sync (ops/s) | Event sync (ops/s) | Event/Device ratio |");
    expect(r.stdout).toMatch(/\| 2 threads \+ event sync +\| [\d,]+ +\| [\d.]+% +\|/);
    expect(r.stdout).toContain("2-thread scaling vs 1-thread: device sync");
  }, 60_000);

  it("takes the bench flags through the CLI, before or after --", () => {
    for (const sep of [[], ["--"]]) {
      const dir = mkdtempSync(join(tmpdir(), "bench-cli-"));
      const json = join(dir, "b.json");
      const r = runCli(["bench", "--python", PY, ...sep, "--op", "matmul", "--size", "16", "--threads", "1,3", "--iters", "3", "--warmup", "1", "--no-process-pool", "--sync-mode", "device", "--json", json]);
      expect(r.code).toBe(0);
      const res = JSON.parse(readFileSync(json, "utf8"));
      expect(res.results.map((x: { threads: number }) => x.threads)).toEqual([1, 3]);
    }
  }, 90_000);
});
