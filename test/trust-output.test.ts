// Issue 30: what the tool writes and prints. Through the built CLI: `--diff` of a CRLF file is a
// patch `git apply` accepts; `--fix` leaves a read-only (mode 444) file alone and says so; control
// bytes from a malformed notebook, a configuration file or source text never reach the terminal
// raw; a `--python` that hangs leaves no process behind after the probe's time limit.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./cli.js";

const tmp = mkdtempSync(path.join(tmpdir(), "mps-lint-trust-output-"));
const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

const WORKER = ["import threading", "import torch", "", "", "def w():", "    torch.mps.synchronize()", "", "", "threading.Thread(target=w).start()", ""];

function dir(name: string): string {
  const d = path.join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
}

const git = (cwd: string, ...args: string[]) => spawnSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "core.autocrlf=false", ...args], { cwd, encoding: "utf8" });

describe("--diff and --fix write only what they should", () => {
  it("--diff of a CRLF file keeps its line endings: git apply accepts the patch, and it gives what --fix writes", () => {
    const d = dir("crlf");
    writeFileSync(path.join(d, "w.py"), WORKER.join("\r\n"));
    expect(git(d, "init", "-q", ".").status).toBe(0);
    git(d, "add", "w.py");
    expect(git(d, "commit", "-qm", "x").status).toBe(0);
    const r = runCli(["--isolated", "--diff", "--unsafe-fixes", "w.py"], { cwd: d });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("+    _mps_lint_event_sync(torch.mps)\r\n");
    writeFileSync(path.join(d, "fix.patch"), r.stdout);
    const check = git(d, "apply", "--check", "fix.patch");
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    expect(git(d, "apply", "fix.patch").status).toBe(0);
    const applied = readFileSync(path.join(d, "w.py"), "utf8");
    git(d, "checkout", "w.py");
    runCli(["--isolated", "--fix", "--unsafe-fixes", "w.py"], { cwd: d });
    expect(applied).toBe(readFileSync(path.join(d, "w.py"), "utf8"));
    expect(applied.split("\n").slice(0, -1).every((l) => l.endsWith("\r"))).toBe(true);
  });

  it("--fix leaves a read-only (444) file alone, with a warning; its findings remain", () => {
    const d = dir("readonly");
    const file = path.join(d, "w.py");
    writeFileSync(file, WORKER.join("\n"));
    chmodSync(file, 0o444);
    const before = statSync(file);
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "w.py"], { cwd: d });
    expect(r.stderr).toContain("warning: w.py: is read-only; fixes not written, its findings remain (make it writable to fix it)");
    expect(r.stderr).toContain("Fixed 0 problems, 1 remaining.");
    expect(r.code).toBe(1);
    expect(readFileSync(file, "utf8")).toBe(WORKER.join("\n"));
    const after = statSync(file);
    expect(after.ino).toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o444);
    // A writable file beside it is fixed as usual.
    writeFileSync(path.join(d, "v.py"), WORKER.join("\n"));
    runCli(["--isolated", "--fix", "--unsafe-fixes", "v.py"], { cwd: d });
    expect(readFileSync(path.join(d, "v.py"), "utf8")).toContain("_mps_lint_event_sync(torch.mps)");
  });
});

describe("no raw control bytes on the terminal", () => {
  const ESC = "\x1b";
  const raw = (s: string) => /[\x00-\x08\x0b-\x1f\x7f]/.test(s.replace(/\r?\n/g, ""));

  it("from malformed notebooks, source text in messages, a configuration file and a path", () => {
    const d = dir("control");
    writeFileSync(path.join(d, "broken.ipynb"), `{"cells": [${ESC}[2J]}`);
    writeFileSync(path.join(d, "kernel.ipynb"), JSON.stringify({ cells: [], metadata: { kernelspec: { language: `R${ESC}[31m` } } }));
    writeFileSync(
      path.join(d, "src.py"),
      `import asyncio\nimport torch\n\n\ndef blocker():\n    torch.mps.synchronize()\n\n\nTABLE = {"k${ESC}[2J": blocker}\n\n\nasync def handle():\n    TABLE["k${ESC}[2J"]()\n`,
    );
    for (const format of ["stylish", "concise", "pylint", "grouped"]) {
      const r = runCli(["--isolated", "-f", format, "."], { cwd: d });
      expect(r.code, r.stderr).toBe(1);
      expect(raw(r.stdout), `${format} stdout: ${JSON.stringify(r.stdout)}`).toBe(false);
      expect(raw(r.stderr), `${format} stderr: ${JSON.stringify(r.stderr)}`).toBe(false);
      expect(r.stdout + r.stderr).toContain("\\x1b[2J");
    }
    const r = runCli(["--isolated", "-f", "concise", "."], { cwd: d });
    expect(r.stderr).toMatch(/^warning: broken\.ipynb: not a valid notebook \(invalid JSON: .*\\x1b.*\); skipped$/m);
    expect(r.stderr).toContain('warning: kernel.ipynb: notebook kernel language is "r\\x1b[31m", not Python; skipped');
    expect(r.stdout).toContain('MPS006 `TABLE["k\\x1b[2J"]()` blocks the event loop');

    writeFileSync(path.join(d, "pyproject.toml"), `[tool.mps-lint]\nselect = ["\\u001b[31m"]\n`);
    const cfg = runCli(["."], { cwd: d });
    expect(cfg.code).toBe(2);
    expect(raw(cfg.stderr), JSON.stringify(cfg.stderr)).toBe(false);
    expect(cfg.stderr).toContain('unknown rule selector "\\x1b[31m"');
    rmSync(path.join(d, "pyproject.toml"));

    const missing = runCli(["--isolated", `no${ESC}[2Jpe.py`], { cwd: d });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("mps-lint: no\\x1b[2Jpe.py: no such file or directory\n");
  });
});

describe("--python probe", () => {
  it("a --python that hangs (a wrapper script with a child) leaves no process behind after the probe's limit", () => {
    const d = dir("hang");
    writeFileSync(path.join(d, "w.py"), WORKER.join("\n"));
    const fake = path.join(d, "python");
    // A wrapper that starts a child and waits for it, as a shim would.
    writeFileSync(fake, `#!/bin/sh\nsleep 300 &\necho $! > "${path.join(d, "child.pid")}"\nwait\n`);
    chmodSync(fake, 0o755);
    const r = runCli(["--isolated", "--verify", "--python", fake, "w.py"], { cwd: d, env: { MPS_LINT_PROBE_TIMEOUT: "3", MPS_LINT_PYTHON: "", VIRTUAL_ENV: "" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--python: ${fake} -> did not answer within 3 s`);
    expect(existsSync(path.join(d, "child.pid"))).toBe(true);
    const pid = Number(readFileSync(path.join(d, "child.pid"), "utf8"));
    leftovers.push(pid);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // Killed with its group before the CLI answered (allow the kernel a moment to reap it).
    const until = Date.now() + 2_000;
    while (alive() && Date.now() < until) spawnSync("sleep", ["0.1"]);
    expect(alive()).toBe(false);
  });
});


