// Issue 8, running user code: only with an explicit --verify; the target runs in its own process
// group with a time limit, and a hang, a crash or Ctrl-C gives a report line (or a clean exit),
// never a linter crash or a leftover process. Through the BUILT CLI with a REAL Python and torch
// (MPS_LINT_PYTHON, default /usr/bin/python3 with Debian's python3-torch).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "./cli.js";

const PY = process.env.MPS_LINT_PYTHON ?? "/usr/bin/python3";
const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")); // a zombie is dead
  } catch {
    return false;
  }
}
async function gone(pid: number, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && alive(pid)) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

/** A file with an MPS001 finding whose module code starts a child (pid written out), then `tail`. */
function target(tail: string, childSession = false): { dir: string; pidFile: string; marker: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-verify-"));
  const pidFile = path.join(dir, "child.pid");
  const marker = path.join(dir, "ran");
  writeFileSync(
    path.join(dir, "app.py"),
    [
      "import subprocess, sys, threading, time",
      "import torch",
      "",
      "def worker():",
      "    torch.mps.synchronize()",
      "",
      `open(${JSON.stringify(marker)}, "w").close()`,
      `child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=${childSession ? "True" : "False"})`,
      `with open(${JSON.stringify(pidFile)}, "w") as f:`,
      "    f.write(str(child.pid))",
      tail,
      "threading.Thread(target=worker).start()",
      "",
    ].join("\n"),
  );
  return { dir, pidFile, marker };
}

const VERIFY = ["--verify", "--python", PY, "--device", "cpu", "--verify-repeats", "1", "--isolated"];

describe("user code runs only with --verify", () => {
  it("linting never runs the code (no --verify: no marker, no child)", () => {
    const t = target("");
    const r = runCli(["app.py"], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(existsSync(t.marker)).toBe(false);
    expect(existsSync(t.pidFile)).toBe(false);
  });
});

describe.skipIf(!hasTorch)("--verify through the CLI (real torch)", () => {
  it("a hanging target: killed with its children at the time limit, a report line, exit as for the findings", async () => {
    const t = target("while True:\n    time.sleep(1)");
    const t0 = Date.now();
    const r = runCli([...VERIFY, "--verify-timeout", "15", "app.py"], { cwd: t.dir });
    expect(Date.now() - t0).toBeLessThan(80_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("verify: target timed out (process tree killed)");
    expect(r.stderr).toMatch(/killed: pid \d+ python\S*: timeout/);
    expect(r.stderr).not.toContain("internal error");
    expect(await gone(Number(readFileSync(t.pidFile, "utf8")))).toBe(true);
  }, 90_000);

  it("a crashing target: a report line, not a linter crash", () => {
    const t = target("child.kill()\nraise SystemExit(3)");
    const r = runCli([...VERIFY, "--verify-timeout", "30", "app.py"], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/verify: .*(crash|exit)/i);
    expect(r.stderr).not.toContain("internal error");
  }, 60_000);

  it("Ctrl-C (SIGINT to mps-lint) ends the run promptly and kills the target and its children", async () => {
    const t = target("while True:\n    time.sleep(1)");
    const p = spawn(process.execPath, [CLI, ...VERIFY, "--verify-timeout", "120", "app.py"], { cwd: t.dir, stdio: "ignore" });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => p.on("exit", (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 40_000;
    while (!(existsSync(t.pidFile) && readFileSync(t.pidFile, "utf8")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const child = Number(readFileSync(t.pidFile, "utf8"));
    const t0 = Date.now();
    p.kill("SIGINT");
    const end = await exited;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(end.signal === "SIGINT" || end.code === 130 || end.code === 2).toBe(true);
    expect(await gone(child)).toBe(true);
  }, 60_000);

  it("a child that called setsid() does not survive the time limit, and the report names it", async () => {
    const t = target("while True:\n    time.sleep(1)", true);
    const r = runCli([...VERIFY, "--verify-timeout", "15", "app.py"], { cwd: t.dir });
    expect(r.code).toBe(1);
    const child = Number(readFileSync(t.pidFile, "utf8"));
    expect(await gone(child)).toBe(true);
    expect(r.stderr).toContain(`killed: pid ${child} python`);
    expect(r.stderr).toMatch(new RegExp(`killed: pid ${child} \\S+ \\(had left the target's session\\): timeout`));
  }, 90_000);

  it("Ctrl-C kills a setsid() child too, and leaves no mps-lint-verify-* file in the temp folder", async () => {
    const t = target("while True:\n    time.sleep(1)", true);
    const tmp = path.join(t.dir, "tmp");
    mkdirSync(tmp);
    const env = { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
    const p = spawn(process.execPath, [CLI, ...VERIFY, "--verify-timeout", "120", "app.py"], { cwd: t.dir, stdio: "ignore", env });
    const exited = new Promise((resolve) => p.on("exit", resolve));
    const deadline = Date.now() + 40_000;
    while (!(existsSync(t.pidFile) && readFileSync(t.pidFile, "utf8")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const child = Number(readFileSync(t.pidFile, "utf8"));
    p.kill("SIGINT");
    await exited;
    expect(await gone(child, 8000)).toBe(true);
    expect(readdirSync(tmp).filter((n) => n.startsWith("mps-lint-verify-"))).toEqual([]);
  }, 60_000);

  it("--verify-memory stops a target whose processes grow past it, and says what was killed and why", () => {
    const t = target("hog = []\nfor _ in range(50):\n    hog.append(b'x' * (400 * 2**20))\n    time.sleep(0.2)");
    const r = runCli([...VERIFY, "--verify-memory", "300", "--verify-timeout", "30", "app.py"], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/verify: target stopped: the target's processes used [\d.]+ GiB resident memory, over the --verify-memory limit of 0\.3 GiB/);
    expect(r.stderr).toMatch(/killed: pid \d+ python\S*: memory/);
  }, 60_000);
});
