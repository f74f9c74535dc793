// Issue 18, case 8: fixes that could not be written count as remaining (exit 1) and say why;
// files with carriage-return-only line endings are not fixed, and say why.
//
// The write failure is a real one: a full disk (a 64 KiB tmpfs filled up, where this process may
// mount one) or a read-only folder (where it is not root). Where neither can be provoked the
// test says so and is skipped.

import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { FIXTURES } from "./harness.js";
import { project } from "./project.js";

const SOURCE = path.join(FIXTURES, "fix", "guarded_backend.py");

/** A folder where writing a new file fails, and how; null when none can be made here. */
function unwritableFolder(): { dir: string; how: string; cleanup: () => void } | null {
  const base = mkdtempSync(path.join(os.tmpdir(), "mps-lint-nowrite-"));
  const dir = path.join(base, "d");
  mkdirSync(dir);
  copyFileSync(SOURCE, path.join(dir, "w.py"));
  const canWrite = () => {
    try {
      writeFileSync(path.join(dir, ".probe"), "x".repeat(4096));
      rmSync(path.join(dir, ".probe"));
      return true;
    } catch {
      return false;
    }
  };
  if (process.getuid?.() === 0) {
    // Root writes through permissions: a full disk instead.
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
    if (m.status !== 0) return null;
    const cleanup = () => {
      spawnSync("umount", [dir]);
      rmSync(base, { recursive: true, force: true });
    };
    copyFileSync(SOURCE, path.join(dir, "w.py"));
    try {
      writeFileSync(path.join(dir, "filler"), Buffer.alloc(256 * 1024));
    } catch {
      /* full now */
    }
    if (canWrite()) {
      cleanup();
      return null;
    }
    return { dir, how: "a full disk (ENOSPC)", cleanup };
  }
  chmodSync(dir, 0o555);
  const cleanup = () => {
    chmodSync(dir, 0o755);
    rmSync(base, { recursive: true, force: true });
  };
  if (canWrite()) {
    cleanup();
    return null;
  }
  return { dir, how: "a read-only folder (EACCES)", cleanup };
}

const target = unwritableFolder();
afterAll(() => target?.cleanup());

describe("fixes that cannot be written", () => {
  it.skipIf(!target)(`count as remaining, exit 1 and say why (${target?.how ?? "no write failure can be provoked here"})`, () => {
    const dir = target!.dir;
    const before = readFileSync(path.join(dir, "w.py"), "utf8");
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "w.py"], { cwd: dir });
    expect(r.code).toBe(1);
    // The warning goes with the report (stdout for the stylish format).
    expect(r.stdout + r.stderr).toMatch(/warning: w\.py: cannot write the fixes \((ENOSPC|EACCES): [^)]+\); the file is unchanged and its findings remain/);
    expect(r.stderr).toContain("Fixed 0 problems, 2 remaining.");
    expect(r.stdout).toContain("MPS001");
    expect(readFileSync(path.join(dir, "w.py"), "utf8")).toBe(before);
    // No temporary file left behind.
    expect(execFileSync("ls", ["-A", dir], { encoding: "utf8" })).not.toContain(".tmp");
    const only = runCli(["--isolated", "--fix-only", "--unsafe-fixes", "w.py"], { cwd: dir });
    expect(only.code).toBe(1);
    expect(only.stderr).toContain("Fixed 0 problems.");
  });
});

describe("carriage-return-only line endings", () => {
  it("are not fixed, and the warning says why", () => {
    const src = "import threading\rimport torch\r\r\rdef worker():\r    torch.mps.synchronize()\r\r\rthreading.Thread(target=worker).start()\r";
    const dir = project({ "w.py": src });
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "w.py"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("warning: w.py: has carriage-return-only (\\r) line endings; no fixes applied (convert them to \\n or \\r\\n first)");
    expect(readFileSync(path.join(dir, "w.py"), "utf8")).toBe(src);
  });
});
