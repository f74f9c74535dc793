// Runs once around the whole suite (vitest globalSetup).
// 1. Every temporary file of the run lives under one folder: TMPDIR points there for the test
//    workers and everything they start (the CLI, Python), and it is removed at the end, so the
//    suite leaves nothing in the system temp folder.
// 2. No silent skips in CI: with CI set, a missing torch or pre-commit would turn the tests that
//    need them into skips; fail the run instead, saying what is missing.
import { spawnSync } from "node:child_process";
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function ciPrerequisites(env: NodeJS.ProcessEnv = process.env): string[] {
  if (!env.CI) return [];
  const missing: string[] = [];
  const py = env.MPS_LINT_PYTHON ?? "/usr/bin/python3";
  if (spawnSync(py, ["-c", "import torch"]).status !== 0) missing.push(`${py} cannot import torch: the --verify tests and the Python unit tests would be skipped (apt-get install python3-torch)`);
  if (spawnSync("pre-commit", ["--version"]).status !== 0) missing.push("pre-commit is not installed: the pre-commit hook test would be skipped (apt-get install pre-commit)");
  return missing;
}

export default function setup(): () => void {
  const missing = ciPrerequisites();
  if (missing.length) throw new Error(`CI is set but the test prerequisites are missing:\n  - ${missing.join("\n  - ")}`);
  const systemTmp = os.tmpdir();
  const root = mkdtempSync(path.join(systemTmp, "mps-lint-test-run-"));
  // Some tests run the CLI as another user (nobody) on their folders: let others traverse.
  chmodSync(root, 0o755);
  process.env.MPS_LINT_SYSTEM_TMPDIR = systemTmp;
  process.env.TMPDIR = root;
  return () => {
    const left = readdirSync(root);
    if (process.env.MPS_LINT_TEST_TMP_REPORT) console.log(`test temp folder held ${left.length} entries; removed`);
    try {
      rmSync(root, { recursive: true, force: true });
    } catch {
      // Some tests make folders unreadable (permission errors are behaviour under test).
      openUp(root);
      rmSync(root, { recursive: true, force: true });
    }
  };
}

function openUp(dir: string): void {
  chmodSync(dir, 0o700);
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (lstatSync(p).isDirectory()) openUp(p);
  }
}
