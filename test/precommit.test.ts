// The pre-commit hook for real: Debian's `pre-commit` installs this repository as a hook
// (language: script: the committed self-contained build, standalone/, run with the system Node;
// nothing is installed) into a throwaway git repository, and a commit that adds a device sync in
// a thread worker is blocked.
//
// The hook repository is a snapshot of the current working tree committed with fixed dates, so
// the same code gives the same commit and pre-commit's environment (kept under
// node_modules/.cache/mps-lint-pre-commit, not in the temp folder, which the suite empties) is
// reused; changed code installs afresh (a clone: bench/install.mjs times it).
// Without pre-commit the test is skipped, except in CI, where it fails saying why.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./cli.js";

const hasPreCommit = spawnSync("pre-commit", ["--version"], { encoding: "utf8" }).status === 0;
const CACHE = path.join(ROOT, "node_modules", ".cache", "mps-lint-pre-commit");
const FIXED = { GIT_AUTHOR_DATE: "2000-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2000-01-01T00:00:00Z" };
const IDENT = ["-c", "user.name=mps-lint test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"];

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 540_000 });
}

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return sh("git", [...IDENT, ...args], cwd, env);
}

/** The working tree (tracked and untracked, not ignored files) as a one-commit repository. */
function snapshotRepo(): { dir: string; rev: string } {
  const list = sh("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT);
  expect(list.status).toBe(0);
  // A fixed path: pre-commit keys its environments by repository path and rev.
  const dir = path.join(CACHE, "hookrepo");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of list.stdout.split("\0").filter(Boolean)) {
    const src = path.join(ROOT, f);
    if (!existsSync(src)) continue; // deleted but not yet staged
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    copyFileSync(src, path.join(dir, f));
  }
  expect(git(dir, ["init", "-q"]).status).toBe(0);
  expect(git(dir, ["add", "-A"]).status).toBe(0);
  expect(git(dir, ["commit", "-q", "-m", "snapshot"], FIXED).status).toBe(0);
  const rev = git(dir, ["rev-parse", "HEAD"]).stdout.trim();
  return { dir, rev };
}

const WORKER = `import threading
import torch

def worker(model, x):
    y = model(x)
    torch.mps.synchronize()
    return y

threading.Thread(target=worker, args=(None, None)).start()
`;

describe.runIf(!hasPreCommit && process.env.CI)("pre-commit hook in CI", () => {
  it("needs pre-commit: CI must not skip the hook test", () => {
    expect.fail("CI is set but `pre-commit` is not on PATH (apt-get install pre-commit)");
  });
});

describe.skipIf(!hasPreCommit)("pre-commit hook", () => {
  it("installs with language: script (no npm install) and blocks a commit that adds a device sync in a thread worker", () => {
    const hook = snapshotRepo();
    const home = path.join(CACHE, "home");
    const env = { PRE_COMMIT_HOME: home, PRE_COMMIT_COLOR: "never", NO_COLOR: "1" };
    const repo = mkdtempSync(path.join(os.tmpdir(), "mps-lint-precommit-"));
    expect(git(repo, ["init", "-q"]).status).toBe(0);
    writeFileSync(
      path.join(repo, ".pre-commit-config.yaml"),
      [
        "repos:",
        `  - repo: ${hook.dir}`,
        `    rev: ${hook.rev}`,
        "    hooks:",
        "      - id: mps-lint",
        "",
      ].join("\n"),
    );
    writeFileSync(path.join(repo, "pyproject.toml"), '[tool.mps-lint]\nexclude = ["vendor/"]\n');
    const install = sh("pre-commit", ["install"], repo, env);
    expect(install.stderr + install.stdout).toContain("pre-commit installed");
    // The hook environment: a clone of the hook repository, nothing installed into it.
    const envInstall = sh("pre-commit", ["install-hooks"], repo, env);
    expect(envInstall.status, envInstall.stdout + envInstall.stderr).toBe(0);
    expect(envInstall.stdout + envInstall.stderr).not.toMatch(/Installing environment/);

    // 1. No Python file staged: the hook is skipped, the commit goes through.
    writeFileSync(path.join(repo, "README.txt"), "hello\n");
    expect(git(repo, ["add", "-A"]).status).toBe(0);
    const first = git(repo, ["commit", "-m", "no python"], env);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout + first.stderr).toMatch(/mps-lint\.+\(no files to check\)Skipped/);

    // 2. Clean Python passes.
    writeFileSync(path.join(repo, "main.py"), "import torch\n\ndef main(m, x):\n    y = m(x)\n    torch.mps.synchronize()\n    return y\n");
    git(repo, ["add", "main.py"]);
    const clean = git(repo, ["commit", "-m", "clean"], env);
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout + clean.stderr).toMatch(/mps-lint\.+Passed/);

    // 3. A staged file in an excluded folder is not linted (the hook passes --force-exclude).
    mkdirSync(path.join(repo, "vendor"));
    writeFileSync(path.join(repo, "vendor", "third_party.py"), WORKER);
    git(repo, ["add", "vendor"]);
    const vendored = git(repo, ["commit", "-m", "vendor"], env);
    expect(vendored.status, vendored.stdout + vendored.stderr).toBe(0);

    // 4. A device sync in a thread worker: the commit is blocked.
    const head = git(repo, ["rev-parse", "HEAD"]).stdout.trim();
    writeFileSync(path.join(repo, "worker.py"), WORKER);
    git(repo, ["add", "worker.py"]);
    const bad = git(repo, ["commit", "-m", "add worker"], env);
    const out = bad.stdout + bad.stderr;
    expect(bad.status).not.toBe(0);
    expect(out).toMatch(/mps-lint\.+Failed/);
    expect(out).toMatch(/worker\.py\n\s+6:5\s+error\s+.*MPS001/);
    expect(git(repo, ["rev-parse", "HEAD"]).stdout.trim()).toBe(head);
  }, 600_000);
});
