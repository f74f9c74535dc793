// Ruff's configuration keys, through the real CLI on throwaway projects: extend, include,
// respect-gitignore, extend-per-file-ignores, required-version, output-format, fix, unsafe-fixes,
// cache-dir; "did you mean" for unknown keys; configuration files that are not regular files.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { BAD, WARN, project } from "./project.js";

const codes = (stdout: string) => (JSON.parse(stdout) as { code: string; filename: string }[]).map((f) => `${path.basename(f.filename)} ${f.code}`);

describe("configuration keys", () => {
  it("unknown keys name the closest known one", () => {
    const dir = project({ "pyproject.toml": '[tool.mps-lint]\nextend_select = ["MPS0"]\n', "a.py": "x = 1\n" });
    const r = runCli(["."], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pyproject.toml:2: tool.mps-lint.extend_select: unknown key; did you mean "extend-select"?');
    const v = runCli(["."], { cwd: project({ "mps-lint.toml": '[verify]\npyton = "/usr/bin/python3"\n', "a.py": "" }) });
    expect(v.stderr).toContain('verify.pyton: unknown key; did you mean "python"?');
  });

  it("a configuration file that is a FIFO or a link to /dev/zero is refused at once, not read", () => {
    const fifo = project({ "a.py": BAD });
    execFileSync("mkfifo", [path.join(fifo, "pyproject.toml")]);
    const r = runCli(["."], { cwd: fifo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pyproject\.toml: not a regular file/);
    const zero = project({ "a.py": BAD });
    symlinkSync("/dev/zero", path.join(zero, "mps-lint.toml"));
    expect(runCli(["."], { cwd: zero }).stderr).toMatch(/mps-lint\.toml: not a regular file/);
    const big = project({ "a.py": BAD, "mps-lint.toml": "#".repeat(2 << 20) });
    expect(runCli(["."], { cwd: big }).stderr).toMatch(/\d+ bytes; a configuration file is at most \d+ bytes/);
  });

  it("extend: the base's settings, this file's keys over them; extend-per-file-ignores adds", () => {
    const dir = project({
      "base.toml": 'ignore = ["MPS002"]\n[per-file-ignores]\n"gen/*" = ["MPS001"]\n',
      "pyproject.toml": '[tool.mps-lint]\nextend = "base.toml"\n[tool.mps-lint.extend-per-file-ignores]\n"legacy.py" = ["MPS001"]\n',
      "a.py": BAD + "\n" + WARN,
      "legacy.py": BAD,
      "gen/x.py": BAD,
    });
    const r = runCli([".", "-f", "json", "--no-cache"], { cwd: dir });
    expect(codes(r.stdout)).toEqual(["a.py MPS001"]);
    const loop = project({ "a.toml": 'extend = "b.toml"\n', "b.toml": 'extend = "a.toml"\n', "x.py": "" });
    const l = runCli(["--config", "a.toml", "."], { cwd: loop });
    expect(l.code).toBe(2);
    expect(l.stderr).toContain("extends itself");
  });

  it("include and respect-gitignore change what folder walks find", () => {
    const dir = project({ "pyproject.toml": '[tool.mps-lint]\ninclude = ["app/*.py"]\n', "app/a.py": BAD, "b.py": BAD });
    expect(codes(runCli([".", "-f", "json", "--no-cache"], { cwd: dir }).stdout)).toEqual(["a.py MPS001"]);
    const ign = project({ ".gitignore": "skipped.py\n", "skipped.py": BAD, "pyproject.toml": "[tool.mps-lint]\nrespect-gitignore = false\n" });
    execFileSync("git", ["init", "-q"], { cwd: ign });
    expect(codes(runCli([".", "-f", "json", "--no-cache"], { cwd: ign }).stdout)).toEqual(["skipped.py MPS001"]);
    writeFileSync(path.join(ign, "pyproject.toml"), "[tool.mps-lint]\nrespect-gitignore = true\n");
    expect(runCli([".", "-f", "json", "--no-cache"], { cwd: ign }).stdout).toBe("[]\n");
  });

  it("required-version: a requirement this version does not meet stops the run", () => {
    const version = JSON.parse(readFileSync(path.join(import.meta.dirname, "..", "package.json"), "utf8")).version;
    const ok = project({ "mps-lint.toml": `required-version = ">=${version}"\n`, "a.py": "" });
    expect(runCli(["."], { cwd: ok }).code).toBe(0);
    const bad = project({ "mps-lint.toml": 'required-version = ">=99"\n', "a.py": "" });
    const r = runCli(["."], { cwd: bad });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`this is mps-lint ${version}, which does not satisfy ">=99"`);
  });

  it("output-format, unsafe-fixes, fix and cache-dir are the command line's defaults", () => {
    const dir = project({ "mps-lint.toml": 'output-format = "concise"\ncache-dir = "build/lint-cache"\n', "a.py": BAD });
    const r = runCli(["."], { cwd: dir });
    expect(r.stdout).toMatch(/^a\.py:5:5: MPS001 /);
    expect(existsSync(path.join(dir, "build", "lint-cache"))).toBe(true);
    expect(runCli([".", "-f", "json"], { cwd: dir }).stdout).toMatch(/^\[/);
    const typo = project({ "mps-lint.toml": 'output-format = "ful"\n', "a.py": "" });
    expect(runCli(["."], { cwd: typo }).stderr).toContain('did you mean "full"?');
    const fixing = project({ "mps-lint.toml": "fix = true\nunsafe-fixes = true\n", "a.py": BAD });
    const f = runCli([".", "-f", "concise"], { cwd: fixing });
    expect(readFileSync(path.join(fixing, "a.py"), "utf8")).toContain("_mps_lint_event_sync(");
    expect(f.stderr).toContain("Fixed 1 problem");
  });
});
