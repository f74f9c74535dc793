// Issue 19's hostile inputs, through the built CLI: configuration files that are not regular
// files, UTF-16 source, file names with control characters, and where run warnings go.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";

function project(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-robust-"));
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A worker thread with a device sync on line 4. */
const THREAD = `import threading\nimport torch\ndef worker():\n    torch.mps.synchronize()\n\nthreading.Thread(target=worker).start()\n`;

describe("configuration files that are not regular files", () => {
  it("a pyproject.toml that is a FIFO is refused (exit 2), not read forever", () => {
    const dir = project({ "a.py": THREAD });
    execFileSync("mkfifo", [path.join(dir, "pyproject.toml")]);
    const r = runCli(["a.py"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("pyproject.toml: not a regular file");
  });

  it("a pyproject.toml linked to /dev/zero is refused (exit 2)", () => {
    const dir = project({ "a.py": THREAD });
    symlinkSync("/dev/zero", path.join(dir, "pyproject.toml"));
    const r = runCli(["a.py"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("pyproject.toml: not a regular file");
  });

  it("a configuration file over the size cap is refused with its size", () => {
    const dir = project({ "a.py": THREAD, "mps-lint.toml": "# " + "x".repeat(5 * 1024 * 1024) + "\n" });
    const r = runCli(["a.py"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mps-lint\.toml: \d+ bytes; a configuration file is at most/);
  });
});

describe("UTF-16 source", () => {
  for (const [name, bom, enc] of [
    ["utf-16le", Buffer.from([0xff, 0xfe]), "utf16le"],
    ["utf-16be", Buffer.from([0xfe, 0xff]), "utf16be"],
  ] as const) {
    it(`${name} with a BOM is decoded and linted, with a warning (not passed as binary)`, () => {
      const body = enc === "utf16le" ? Buffer.from(THREAD, "utf16le") : Buffer.from(THREAD, "utf16le").swap16();
      const dir = project({ "w.py": Buffer.concat([bom, body]) });
      const before = Buffer.concat([bom, body]);
      const r = runCli(["-f", "concise", "--fix", "w.py"], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("w.py:4:5: MPS001");
      expect(r.stderr).toContain(`warning: w.py: encoded as ${name.toUpperCase()} (with a BOM)`);
      // never rewritten (fixes are applied to UTF-8 files only)
      expect(Buffer.compare(execFileSync("cat", [path.join(dir, "w.py")]), before)).toBe(0);
    });
  }
});

describe("file names with control characters", () => {
  it("a newline in a file name is escaped in line formats, so it cannot forge a finding line", () => {
    const forged = "x\na.py:1:1: MPS999 fake.py";
    const dir = project({ [forged]: THREAD });
    for (const format of ["concise", "pylint", "stylish"]) {
      const r = runCli(["-f", format, "."], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("x\\na.py:1:1: MPS999 fake.py");
      expect(r.stdout.split("\n").some((l) => l.startsWith("a.py:1:1: MPS999"))).toBe(false);
    }
    const json = JSON.parse(runCli(["-f", "json", "."], { cwd: dir }).stdout) as { filename: string }[];
    expect(json.map((d) => path.basename(d.filename))).toEqual([forged]);
  });
});

describe("run warnings go to stderr in every format", () => {
  it("a link loop is a warning on stderr, never in the report on stdout", () => {
    const dir = project({ "a.py": THREAD });
    symlinkSync("self.py", path.join(dir, "self.py"));
    for (const format of ["stylish", "concise", "json", "sarif", "pylint"]) {
      const r = runCli(["-f", format, "."], { cwd: dir });
      expect(r.stderr, format).toContain("warning: self.py: cannot follow: too many levels of symbolic links");
      expect(r.stdout, format).not.toContain("too many levels");
    }
  });
});
