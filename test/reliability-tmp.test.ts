// Temporary files: the verify runner writes one config file per run of the target
// (mps-lint-verify-*.json in the temp folder) and must remove it however the run ends: a normal
// run, a target that times out, and Ctrl-C / SIGTERM to mps-lint. Each case gets its own TMPDIR
// so what is left behind is exactly what that run leaked. Needs a Python with torch
// (MPS_LINT_PYTHON, default /usr/bin/python3); CI fails without one (test/global-setup.ts).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "./cli.js";
import { project } from "./project.js";

const PY = process.env.MPS_LINT_PYTHON ?? "/usr/bin/python3";
const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;
const VERIFY = ["--verify", "--python", PY, "--device", "cpu", "--verify-repeats", "1", "--isolated"];

/** A target with one MPS001 finding whose module code writes `started`, then runs `tail`. */
function target(tail: string): { dir: string; tmp: string; started: string } {
  const dir = project({});
  const tmp = path.join(dir, "tmp");
  mkdirSync(tmp);
  const started = path.join(dir, "started");
  writeFileSync(
    path.join(dir, "app.py"),
    ["import threading, time", "import torch", "", "def worker():", "    torch.mps.synchronize()", "", `open(${JSON.stringify(started)}, "w").close()`, tail, "threading.Thread(target=worker).start()", ""].join("\n"),
  );
  return { dir, tmp, started };
}

const leftovers = (tmp: string) => readdirSync(tmp).filter((f) => /^mps-lint-verify-.*\.json$/.test(f));

describe.skipIf(!hasTorch)("the verify runner leaves no temporary files", () => {
  it("a normal run: the runner's config files are gone, and the run did happen", () => {
    const t = target("");
    const r = runCli([...VERIFY, "app.py"], { cwd: t.dir, env: { TMPDIR: t.tmp } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("1 thread, 1 device sync");
    expect(leftovers(t.tmp)).toEqual([]);
  });

  it("a target killed at the time limit", () => {
    const t = target("while True:\n    time.sleep(1)");
    const r = runCli([...VERIFY, "--verify-timeout", "2", "app.py"], { cwd: t.dir, env: { TMPDIR: t.tmp } });
    expect(r.stdout).toContain("timed out");
    expect(leftovers(t.tmp)).toEqual([]);
  });

  // KNOWN LEAK (product bug, reported to the lead; the runner is native-verify/mps_lint_verify/
  // runner.py): stopped by a signal, the runner exits without removing its mps-lint-verify-*.json.
  // `it.fails` keeps the suite green while the leak is there and turns red once it is fixed:
  // then change `it.fails` to `it`.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it.fails(`KNOWN LEAK: mps-lint stopped with ${signal} while the target runs`, async () => {
      const t = target("while True:\n    time.sleep(1)");
      const p = spawn(process.execPath, [CLI, ...VERIFY, "--verify-timeout", "120", "app.py"], { cwd: t.dir, stdio: "ignore", env: { ...process.env, TMPDIR: t.tmp } });
      const exited = new Promise<void>((resolve) => p.on("exit", () => resolve()));
      // Wait (bounded by the test's limit) until the target runs: the runner's file exists then.
      while (!existsSync(t.started)) await new Promise((r) => setTimeout(r, 50));
      expect(leftovers(t.tmp).length).toBeGreaterThan(0);
      p.kill(signal);
      await exited;
      // The runner is a child of mps-lint; give it a moment to finish its own cleanup.
      for (let i = 0; i < 100 && leftovers(t.tmp).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(leftovers(t.tmp)).toEqual([]);
    });
  }
});

