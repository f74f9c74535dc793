// Issue 30: one large file never sinks a run. Through the built CLI: a run paused for over a
// minute while a worker parses is not taken for dead (the fixed 60 s watchdog did, exit 2, no
// findings at all); a worker that dies on one file (its heap limit) costs that file only; a file
// over the per-file size limit is skipped with a warning naming it, the default limit sized to the
// machine's memory; large files are parsed one at a time.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, runCli } from "./cli.js";

const tmp = mkdtempSync(path.join(tmpdir(), "mps-lint-trust-workers-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A generated module of about `bytes` bytes whose last lines start a thread that syncs (one MPS001). */
function generated(bytes: number, prefix = "f"): string {
  const parts = ["import threading", "import torch", ""];
  let size = 0;
  for (let k = 0; size < bytes; k++) {
    const s = `def ${prefix}${k}(x, y=None):\n    z = [x + ${k} for _ in range(3)]\n    if y is not None:\n        z.append(helper_${k % 50}(y, key=lambda q: q * ${k}))\n    return torch.tensor(z).sum() + ${k}\n\n`;
    parts.push(s);
    size += s.length;
  }
  parts.push("def worker():\n    torch.mps.synchronize()\n\n\nthreading.Thread(target=worker).start()\n");
  return parts.join("\n");
}

const small = (i: number) => `import threading\nimport torch\n\n\ndef w${i}():\n    torch.mps.synchronize()\n\n\nthreading.Thread(target=w${i}).start()\n`;

function project(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

const smalls = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}.py`, small(i)]));
const findingFiles = (stdout: string) => [...new Set(stdout.split("\n").filter((l) => l.includes(": MPS001 ")).map((l) => l.split(":")[0]))].sort();

describe("parse workers: liveness", () => {
  it("a run paused for over a minute while a worker parses finishes with every finding", async () => {
    const dir = project("paused", { "gen.py": generated(2_000_000), ...smalls(3) });
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [CLI, "--isolated", "--no-cache", "-j", "2", "-f", "concise", "."], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d) => (stdout += d));
      p.stderr.on("data", (d) => (stderr += d));
      p.on("close", (code) => resolve({ code, stdout, stderr }));
      // Stopped while the worker is inside gen.py (a laptop's sleep does the same), for longer than
      // the old fixed watchdog's 60 s, then resumed.
      setTimeout(() => {
        p.kill("SIGSTOP");
        setTimeout(() => p.kill("SIGCONT"), 62_000);
      }, 2_500);
    });
    expect(r.stderr).not.toContain("internal error");
    expect(r.code).toBe(1);
    expect(findingFiles(r.stdout)).toEqual(["gen.py", "s0.py", "s1.py", "s2.py"]);
  }, 180_000);

  it("a worker that dies on one file (its heap limit) costs that file only, with a warning naming it", () => {
    const dir = project("dies", { "gen.py": generated(2_000_000), ...smalls(20) });
    const r = runCli(["--isolated", "--no-cache", "-j", "2", "-f", "concise", "."], {
      cwd: dir,
      env: { MPS_LINT_WORKER_HEAP_MB: "32", MPS_LINT_WORKER_STALL_CHECKS: "3", MPS_LINT_TIMING: "1" },
    });
    expect(r.stderr).not.toContain("internal error");
    expect(r.stderr).not.toContain("Unhandled");
    expect(r.stderr).toContain("warning: gen.py: the parse worker stopped while analysing this file (it ran out of memory, crashed or hung); not linted");
    expect(r.code).toBe(1);
    expect(findingFiles(r.stdout)).toEqual(Object.keys(smalls(20)).sort());
    const counts = JSON.parse(r.stderr.trim().split("\n").pop()!).counts;
    expect(counts.workersLost).toBeGreaterThanOrEqual(1);
  });

  it("files of 2 MB or more are parsed one at a time", () => {
    const dir = project("heavy", { "a.py": generated(2_200_000, "a"), "b.py": generated(2_200_000, "b"), ...smalls(2) });
    const r = runCli(["--isolated", "--no-cache", "-j", "2", "-f", "concise", "."], { cwd: dir, env: { MPS_LINT_TIMING: "1" } });
    expect(r.code).toBe(1);
    expect(findingFiles(r.stdout)).toEqual(["a.py", "b.py", "s0.py", "s1.py"]);
    expect(JSON.parse(r.stderr.trim().split("\n").pop()!).counts.heavyAtOnce).toBe(1);
  });
});

describe("per-file size limit", () => {
  it("a file over MPS_LINT_MAX_FILE_SIZE is skipped with a warning naming it; the rest is linted", () => {
    const dir = project("limit", { "gen.py": generated(1_200_000), "nb_like.py": small(9), ...smalls(2) });
    const r = runCli(["--isolated", "-f", "concise", "."], { cwd: dir, env: { MPS_LINT_MAX_FILE_SIZE: "1M" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^warning: gen\.py: 1\.\d MB, over the per-file limit of 1\.0 MB \(MPS_LINT_MAX_FILE_SIZE\); not linted$/m);
    expect(findingFiles(r.stdout)).toEqual(["nb_like.py", "s0.py", "s1.py"]);
    // Without the limit, the same file is linted.
    const all = runCli(["--isolated", "--no-cache", "-f", "concise", "."], { cwd: dir });
    expect(findingFiles(all.stdout)).toEqual(["gen.py", "nb_like.py", "s0.py", "s1.py"]);
  });

  it("the default limit is memory / 1000 and the warning says how it was chosen", () => {
    const memory = Math.min(totalmem(), process.constrainedMemory?.() || Infinity);
    const limit = Math.floor(memory / 1000);
    // Just over the limit, and sparse: without the cache and the prefilter nothing reads it before
    // the size check, so this costs no memory on any machine.
    const dir = project("default-limit", { "huge.py": "", ...smalls(1) });
    const size = limit + 1024 * 1024;
    truncateSync(path.join(dir, "huge.py"), size);
    const r = runCli(["--isolated", "--no-cache", "--no-prefilter", "-f", "concise", "."], { cwd: dir });
    const mb = (n: number) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : `${(n / 1024 ** 2).toFixed(1)} MB`);
    expect(r.stderr).toContain(`warning: huge.py: ${mb(size)}, over the per-file limit of ${mb(limit)} (sized to this machine's ${mb(memory)} of memory; MPS_LINT_MAX_FILE_SIZE sets another); not linted`);
    expect(r.code).toBe(1);
    expect(findingFiles(r.stdout)).toEqual(["s0.py"]);
  });
});
