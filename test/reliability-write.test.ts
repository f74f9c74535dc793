// Issue 8, writing files: --add-noqa, --write-baseline and -o replace files atomically (a temp
// file in the same folder, then rename), keep mode, line endings, BOM, encoding and the final
// newline, never leave temp files, follow symbolic links, and two processes at once never leave a
// corrupt file. Through the BUILT CLI.
import { spawn } from "node:child_process";
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "./cli.js";

const LINES = ["import threading", "import torch", "def worker():", "    torch.mps.synchronize()", "threading.Thread(target=worker).start()"];
const NOQA = "    torch.mps.synchronize()  # noqa: MPS001";

function dir(files: Record<string, string | Buffer>): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "mps-lint-write-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text);
  return d;
}
const leftovers = (d: string) => readdirSync(d).filter((f) => f.includes(".mps-lint-") || f.endsWith(".tmp"));

function runAsync(args: string[], cwd: string): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd, stdio: "ignore" });
    p.on("exit", (code) => resolve(code ?? -1));
  });
}

describe("--add-noqa writes safely", () => {
  it("keeps CRLF, BOM, a missing final newline and the mode; replaces by rename; no temp files", () => {
    const crlf = LINES.join("\r\n") + "\r\n";
    const bom = "\ufeff" + LINES.join("\n") + "\n";
    const nofinal = LINES.join("\n");
    const cr = LINES.join("\r") + "\r";
    const d = dir({ "crlf.py": crlf, "bom.py": bom, "nofinal.py": nofinal, "cr.py": cr });
    chmodSync(path.join(d, "crlf.py"), 0o640);
    chmodSync(path.join(d, "nofinal.py"), 0o755);
    const inode = statSync(path.join(d, "crlf.py")).ino;
    const r = runCli(["--isolated", "--add-noqa", "."], { cwd: d });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Added 4 noqa directives in 4 files.");
    const want = (eol: string) => LINES.map((l, i) => (i === 3 ? NOQA : l)).join(eol);
    expect(readFileSync(path.join(d, "crlf.py"), "utf8")).toBe(want("\r\n") + "\r\n");
    expect(readFileSync(path.join(d, "bom.py"), "utf8")).toBe("\ufeff" + want("\n") + "\n");
    expect(readFileSync(path.join(d, "nofinal.py"), "utf8")).toBe(want("\n"));
    expect(readFileSync(path.join(d, "cr.py"), "utf8")).toBe(want("\r") + "\r");
    expect(statSync(path.join(d, "crlf.py")).mode & 0o777).toBe(0o640);
    expect(statSync(path.join(d, "nofinal.py")).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(d, "crlf.py")).ino).not.toBe(inode); // a new file renamed over the old one
    expect(leftovers(d)).toEqual([]);
    // A second run finds nothing to add and changes nothing.
    expect(runCli(["--isolated", "--add-noqa", "."], { cwd: d }).stderr).toContain("Added 0 noqa directives.");
    expect(runCli(["--isolated", "."], { cwd: d }).code).toBe(0);
  });

  it("a latin-1 file is left byte for byte (reported), a symlinked file is edited through the link", () => {
    const latin = Buffer.from("# -*- coding: latin-1 -*-\n# caf\u00e9\n" + LINES.join("\n") + "\n", "latin1");
    const d = dir({ "latin.py": latin, "real.py": LINES.join("\n") + "\n" });
    symlinkSync("real.py", path.join(d, "link.py"));
    const r = runCli(["--isolated", "--add-noqa", "latin.py", "link.py"], { cwd: d });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: latin\.py:6: file is not UTF-8 \(latin1\); add # noqa by hand/);
    expect(readFileSync(path.join(d, "latin.py")).equals(latin)).toBe(true);
    expect(lstatSync(path.join(d, "link.py")).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(d, "real.py"), "utf8")).toContain(NOQA);
  });

  it("two processes adding noqa to the same files at once leave complete, valid files", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`m${i}.py`] = LINES.join("\n") + "\n";
    const d = dir(files);
    const codes = await Promise.all([0, 1, 2].map(() => runAsync(["--isolated", "--add-noqa", "."], d)));
    expect(codes).toEqual([0, 0, 0]);
    for (let i = 0; i < 20; i++) {
      expect(readFileSync(path.join(d, `m${i}.py`), "utf8")).toBe(LINES.map((l, j) => (j === 3 ? NOQA : l)).join("\n") + "\n");
    }
    expect(leftovers(d)).toEqual([]);
  });
});

describe("--write-baseline and -o write safely", () => {
  it("several processes writing one baseline at once: the file is always one complete baseline", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`m${i}.py`] = LINES.join("\n") + "\n";
    const d = dir(files);
    expect(runCli(["--isolated", "--write-baseline", "ref.json", "."], { cwd: d }).code).toBe(0);
    const ref = readFileSync(path.join(d, "ref.json"), "utf8");
    const codes = await Promise.all(Array.from({ length: 6 }, () => runAsync(["--isolated", "--write-baseline", "base.json", "."], d)));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    expect(readFileSync(path.join(d, "base.json"), "utf8")).toBe(ref);
    expect(JSON.parse(ref).findings).toHaveLength(30);
    expect(leftovers(d)).toEqual([]);
    expect(runCli(["--isolated", "--baseline", "base.json", "."], { cwd: d }).code).toBe(0);
  });

  it("keeps an existing baseline's mode; a folder or a missing folder as the target is exit 2, not an internal error", () => {
    const d = dir({ "t.py": LINES.join("\n") + "\n", "base.json": "{}" });
    chmodSync(path.join(d, "base.json"), 0o600);
    expect(runCli(["--isolated", "--write-baseline", "base.json", "."], { cwd: d }).code).toBe(0);
    expect(statSync(path.join(d, "base.json")).mode & 0o777).toBe(0o600);
    for (const args of [["--write-baseline", "."], ["--write-baseline", "nope/b.json"], ["-o", "."], ["-o", "nope/out.txt"]]) {
      const r = runCli(["--isolated", ...args, "t.py"], { cwd: d });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^mps-lint: cannot write (\.|nope\/b\.json|nope\/out\.txt): (is a folder|no such file or directory)\n$/);
    }
    expect(leftovers(d)).toEqual([]);
  });

  it("a corrupt baseline is exit 2 naming the file", () => {
    const d = dir({ "t.py": LINES.join("\n") + "\n", "b.json": "{bad" });
    const r = runCli(["--isolated", "--baseline", "b.json", "t.py"], { cwd: d });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/b\.json: not a baseline \(invalid JSON/);
  });
});
