// Temporary files and processes: however a --verify run ends (a normal run, a target killed at
// its time limit, Ctrl-C or SIGTERM to mps-lint) it leaves nothing in the temp folder and no
// process of the target alive. Each case gets its own empty TMPDIR, so anything found there
// afterwards was left by that run (the runner, the harness, torch or the CLI). The target appends
// its pid to a file outside TMPDIR each time it starts, so the test knows which processes to
// look for. Needs a Python with torch (MPS_LINT_PYTHON, default /usr/bin/python3); CI fails
// without one (test/global-setup.ts).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "./cli.js";
import { project } from "./project.js";

const PY = process.env.MPS_LINT_PYTHON ?? "/usr/bin/python3";
const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;
const VERIFY = ["--verify", "--python", PY, "--device", "cpu", "--verify-repeats", "1", "--isolated"];

/** A target with one MPS001 finding whose module code records its pid in `started`, then runs `tail`. */
function target(tail: string): { dir: string; tmp: string; started: string } {
  const dir = project({});
  const tmp = path.join(dir, "tmp");
  mkdirSync(tmp);
  const started = path.join(dir, "started");
  writeFileSync(
    path.join(dir, "app.py"),
    [
      "import os, threading, time",
      "import torch",
      "",
      "def worker():",
      "    torch.mps.synchronize()",
      "",
      `with open(${JSON.stringify(started)}, "a") as f:`,
      '    f.write("%d\\n" % os.getpid())',
      tail,
      "threading.Thread(target=worker).start()",
      "",
    ].join("\n"),
  );
  return { dir, tmp, started };
}

/** Everything in the case's temp folder: a run that cleans up leaves it empty. */
const leftovers = (tmp: string) => readdirSync(tmp);

const targetPids = (started: string) => readFileSync(started, "utf8").split("\n").filter(Boolean).map(Number);

/** Linux: a pid with no /proc entry, or a zombie, runs no code any more. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Processes killed by another process disappear a moment later: wait for it, bounded. */
async function survivors(pids: number[]): Promise<number[]> {
  for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(50);
  return pids.filter(alive);
}

describe.skipIf(!hasTorch || process.platform !== "linux")("a --verify run leaves no temporary files and no target process", () => {
  it("a normal run: the run did happen, and the temp folder is empty", async () => {
    const t = target("");
    const r = runCli([...VERIFY, "app.py"], { cwd: t.dir, env: { TMPDIR: t.tmp } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("1 thread, 1 device sync");
    expect(leftovers(t.tmp)).toEqual([]);
    expect(await survivors(targetPids(t.started))).toEqual([]);
  });

  it("a target killed at the time limit", async () => {
    const t = target("while True:\n    time.sleep(1)");
    const r = runCli([...VERIFY, "--verify-timeout", "12", "app.py"], { cwd: t.dir, env: { TMPDIR: t.tmp } });
    expect(r.stdout).toContain("timed out");
    expect(targetPids(t.started).length).toBeGreaterThan(0);
    expect(leftovers(t.tmp)).toEqual([]);
    expect(await survivors(targetPids(t.started))).toEqual([]);
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`mps-lint stopped with ${signal} while the target runs`, async () => {
      const t = target("while True:\n    time.sleep(1)");
      const p = spawn(process.execPath, [CLI, ...VERIFY, "--verify-timeout", "120", "app.py"], { cwd: t.dir, stdio: "ignore", env: { ...process.env, TMPDIR: t.tmp } });
      const exited = new Promise<void>((resolve) => p.on("exit", () => resolve()));
      try {
        // Wait (bounded by the test's limit) until the target runs, then stop mps-lint.
        while (!existsSync(t.started) && p.exitCode === null) await sleep(50);
        expect(p.exitCode).toBeNull();
        p.kill(signal);
        await exited;
        // The runner is mps-lint's child in its own process group: let it finish its cleanup.
        for (let i = 0; i < 100 && leftovers(t.tmp).length > 0; i++) await sleep(50);
        expect(leftovers(t.tmp)).toEqual([]);
        expect(await survivors(targetPids(t.started))).toEqual([]);
      } finally {
        // A failed expectation must not leave mps-lint (and the target) running after the test.
        if (p.exitCode === null && p.signalCode === null) {
          p.kill("SIGKILL");
          await exited;
        }
      }
    });
  }
});
