// Command-line conventions shared with ESLint and Ruff.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "./cli.js";
import { BAD, GOOD, WARN, project } from "./project.js";

describe("exit codes and warnings", () => {
  it("--max-warnings: warnings fail only past N; errors always fail", () => {
    const warn = project({ "w.py": WARN });
    expect(runCli(["w.py"], { cwd: warn }).code).toBe(1);
    expect(runCli(["--max-warnings", "1", "w.py"], { cwd: warn }).code).toBe(0);
    const over = runCli(["--max-warnings", "0", "w.py"], { cwd: warn });
    expect(over.code).toBe(1);
    expect(over.stderr).toContain("mps-lint found too many warnings (maximum: 0).");
    const err = project({ "serve.py": BAD });
    expect(runCli(["--max-warnings", "10", "serve.py"], { cwd: err }).code).toBe(1);
    expect(runCli(["--max-warnings", "0", "--exit-zero", "w.py"], { cwd: warn }).code).toBe(0);
    const bad = runCli(["--max-warnings", "x", "w.py"], { cwd: warn });
    expect(bad).toMatchObject({ code: 2, stdout: "" });
    expect(bad.stderr).toContain('--max-warnings expects a whole number of at least -1, got "x"');
    expect(bad.stderr).not.toContain("NaN");
    // Every numeric option reads its text the same way: no NaN reaches the run.
    for (const [flag, value] of [["--jobs", "many"], ["-j", "0"], ["--max-warnings", "1.5"], ["--verify-timeout", "soon"]]) {
      const r = runCli([flag, value, "w.py"], { cwd: warn });
      expect(r, `${flag} ${value}`).toMatchObject({ code: 2, stdout: "" });
      expect(r.stderr).toContain(`got "${value}"`);
    }
  });

  it("usage errors exit 2: - with other paths, --stdin-filename without -, exclusive modes", () => {
    const dir = project({ "serve.py": BAD });
    const both = runCli(["-", "serve.py"], { cwd: dir, input: BAD });
    expect(both).toMatchObject({ code: 2, stdout: "" });
    expect(both.stderr).toContain('"-" (standard input) cannot be combined with other paths');
    const orphan = runCli(["serve.py", "--stdin-filename", "x.py"], { cwd: dir });
    expect(orphan).toMatchObject({ code: 2, stdout: "" });
    expect(orphan.stderr).toContain("--stdin-filename needs the path -");
    const r = runCli(["--baseline", "a.json", "--write-baseline", "b.json", "."], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--write-baseline and --baseline cannot be used together");
  });
});

describe("standard input (editors)", () => {
  it("lints source from stdin as if it were at --stdin-filename, with that file's settings", () => {
    const dir = project({ "pkg/pyproject.toml": '[tool.mps-lint]\nper-file-ignores = { "legacy/*" = ["MPS001"] }\n' });
    const r = runCli(["-f", "concise", "-", "--stdin-filename", "pkg/serve.py"], { cwd: dir, input: BAD });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^pkg\/serve\.py:5:5: MPS001 /);
    expect(runCli(["-", "--stdin-filename", "pkg/legacy/serve.py"], { cwd: dir, input: BAD }).code).toBe(0);
    // The file need not exist, and nothing is written.
    expect(existsSync(path.join(dir, "pkg", "serve.py"))).toBe(false);
  });

  it("- alone reads stdin; clean input gives no output", () => {
    const r = runCli(["-f", "concise", "-"], { cwd: project({}), input: BAD });
    expect(r.stdout).toMatch(/^-:5:5: MPS001 /);
    expect(runCli(["-"], { cwd: project({}), input: GOOD })).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("--force-exclude with an excluded --stdin-filename prints nothing", () => {
    const dir = project({ "mps-lint.toml": 'exclude = ["gen/"]\n' });
    expect(runCli(["--force-exclude", "-", "--stdin-filename", "gen/x.py"], { cwd: dir, input: BAD })).toMatchObject({ code: 0, stdout: "" });
  });
});

describe("colour and terminals", () => {
  it("NO_COLOR and FORCE_COLOR=0 turn colour off; --color forces it", () => {
    const dir = project({ "serve.py": BAD });
    expect(runCli(["serve.py"], { cwd: dir, env: { FORCE_COLOR: "1" } }).stdout).toContain("\u001b[");
    expect(runCli(["serve.py"], { cwd: dir, env: { FORCE_COLOR: "0" } }).stdout).not.toContain("\u001b[");
    expect(runCli(["serve.py"], { cwd: dir, env: { NO_COLOR: "1" } }).stdout).not.toContain("\u001b[");
    expect(runCli(["--color", "serve.py"], { cwd: dir }).stdout).toContain("\u001b[");
    // Never colour in a report written to a file.
    runCli(["--color", "-o", "r.txt", "serve.py"], { cwd: dir });
    const written = readFileSync(path.join(dir, "r.txt"), "utf8");
    expect(written).toContain("MPS001");
    expect(written).not.toContain("\u001b[");
  });

  // The progress line of long runs: test/progress.test.ts.
  it("on a terminal: colour; off a terminal: none, and nothing on stderr", () => {
    const files: Record<string, string> = { "serve.py": BAD };
    for (let i = 0; i < 60; i++) files[`m${i}.py`] = GOOD;
    const dir = project(files);
    const piped = runCli(["."], { cwd: dir, env: { CI: "" } });
    expect(piped.code).toBe(1);
    expect(piped.stderr).toBe("");
    expect(piped.stdout).not.toContain("\u001b[");
    // script(1) gives the command a pseudo-terminal for stdout and stderr.
    const tty = spawnSync("script", ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} .`, "/dev/null"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, CI: "", NO_COLOR: "", FORCE_COLOR: "" },
    });
    expect(tty.stdout).toContain("\u001b["); // colour
    expect(tty.stdout).toContain("MPS001");
  });
});
