// The facts and results cache: same findings cold, warm and after a change; invalidation by
// content; `clean`; two runs at once leave identical output and a valid cache.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { discover } from "../src/files/discover.js";
import { lintFiles } from "../src/engine/engine.js";
import { fingerprintOf } from "../src/facts/cache.js";
import { CLI, ROOT, runCli } from "./cli.js";
import { FIXTURES } from "./harness.js";

const tmp = mkdtempSync(path.join(tmpdir(), "mps-lint-cache-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function copyFixtures(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(FIXTURES, dir, { recursive: true });
  // Old mtimes: a file modified within the clock's resolution is never trusted by its stat.
  const old = new Date(Date.now() - 60_000);
  for (const f of discover([dir], dir)) utimesSync(f, old, old);
  return dir;
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe("cache", () => {
  it("gives the same findings cold, warm, and after a file changes", () => {
    const dir = copyFixtures("warm");
    const files = discover([dir], dir);
    const cacheDir = path.join(dir, ".mps_lint_cache");
    const plain = lintFiles({ files, rules: RULES });
    const cold = lintFiles({ files, rules: RULES, cacheDir, prefilter: true, jobs: 2 });
    expect(cold.diagnostics).toEqual(plain.diagnostics);
    expect(cold.stats!.cachedResult).toBe(false);
    expect(existsSync(path.join(cacheDir, ".gitignore"))).toBe(true);
    const warm = lintFiles({ files, rules: RULES, cacheDir, prefilter: true, jobs: 2 });
    expect(warm.diagnostics).toEqual(plain.diagnostics);
    expect(warm.stats!.cachedResult).toBe(true);

    // Change a file: its sync call goes away, and so does its finding.
    const target = files.find((f) => f.endsWith(path.join("cross_module", "app", "engine", "sync.py")))!;
    writeFileSync(target, readFileSync(target, "utf8").replace("torch.mps.synchronize()  # expect: MPS001", "pass"));
    const changed = lintFiles({ files, rules: RULES, cacheDir, prefilter: true, jobs: 2 });
    const fresh = lintFiles({ files, rules: RULES });
    expect(changed.stats!.cachedResult).toBe(false);
    expect(changed.diagnostics).toEqual(fresh.diagnostics);
    expect(changed.diagnostics.length).toBe(plain.diagnostics.length - 1);
  });

  it("is not used by a run of another rule selection for its results", () => {
    const dir = copyFixtures("select");
    const files = discover([dir], dir);
    const cacheDir = path.join(dir, ".mps_lint_cache");
    lintFiles({ files, rules: RULES, cacheDir, prefilter: true });
    const only = lintFiles({ files, cacheDir, prefilter: true, rules: RULES.slice(0, 1) });
    expect(only.stats!.cachedResult).toBe(false);
    expect(only.diagnostics).toEqual(lintFiles({ files, rules: RULES.slice(0, 1) }).diagnostics);
    expect(only.diagnostics.every((d) => d.code === RULES[0].meta.code)).toBe(true);
  });

  it("`mps-lint clean` removes it; --no-cache writes none", () => {
    const dir = copyFixtures("clean");
    expect(runCli(["--no-cache", "-f", "concise", "."], { cwd: dir }).code).toBe(1);
    expect(existsSync(path.join(dir, ".mps_lint_cache"))).toBe(false);
    expect(runCli(["-f", "concise", "."], { cwd: dir }).code).toBe(1);
    expect(existsSync(path.join(dir, ".mps_lint_cache"))).toBe(true);
    const r = runCli(["clean"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(existsSync(path.join(dir, ".mps_lint_cache"))).toBe(false);
    const other = path.join(tmp, "elsewhere-cache");
    runCli(["--cache-dir", other, "-f", "concise", "."], { cwd: dir });
    expect(existsSync(other)).toBe(true);
    runCli(["clean", "--cache-dir", other], { cwd: dir });
    expect(existsSync(other)).toBe(false);
  });

  it("two runs at once give identical output and leave a valid cache", async () => {
    const dir = copyFixtures("concurrent");
    const run = () =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, "-f", "json", "-j", "2", "."], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
        let stdout = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.on("close", (code) => resolve({ code, stdout }));
      });
    const expected = runCli(["--no-cache", "-f", "json", "."], { cwd: dir }).stdout;
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.code).toBe(1);
    expect(b.code).toBe(1);
    expect(a.stdout).toBe(expected);
    expect(b.stdout).toBe(expected);
    const cacheDir = path.join(dir, ".mps_lint_cache");
    const entries = allFiles(cacheDir);
    expect(entries.some((f) => path.basename(f).startsWith(".tmp-"))).toBe(false);
    for (const f of entries.filter((x) => x.endsWith(".json"))) expect(() => JSON.parse(readFileSync(f, "utf8")), f).not.toThrow();
    // And the cache they left serves a third run.
    const third = runCli(["-f", "json", "."], { cwd: dir, env: { MPS_LINT_TIMING: "1" } });
    expect(third.stdout).toBe(expected);
    expect(JSON.parse(third.stderr.trim().split("\n").pop()!).counts.cachedResult).toBe(1);
  });

  it("restored in CI (docs/ci.md) serves a fresh checkout and a fresh install of the same build", () => {
    // Run 1: a checkout, the linter installed in one folder, the cache written to another.
    const dir = copyFixtures("ci");
    const install = (name: string, age: number) => {
      const at = path.join(tmp, name);
      cpSync(path.join(ROOT, "dist"), path.join(at, "dist"), { recursive: true });
      cpSync(path.join(ROOT, "package.json"), path.join(at, "package.json"));
      symlinkSync(path.join(ROOT, "node_modules"), path.join(at, "node_modules"));
      const when = new Date(Date.now() - age);
      for (const f of allFiles(path.join(at, "dist"))) utimesSync(f, when, when);
      return path.join(at, "dist", "bundle", "bin.js");
    };
    const lint = (cli: string, cacheDir: string) =>
      spawnSync(process.execPath, [cli, "-f", "json", "--cache-dir", cacheDir, "."], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", MPS_LINT_TIMING: "1" },
      });
    const counts = (r: { stderr: string }) => JSON.parse(r.stderr.trim().split("\n").pop()!).counts as Record<string, number>;
    const saved = path.join(tmp, "ci-saved-cache");
    const first = lint(install("install-1", 120_000), saved);
    expect(first.status).toBe(1);
    expect(counts(first).cachedResult).toBeUndefined();

    // Run 2: a new checkout (same contents, new mtimes and inodes), the same build installed
    // afresh elsewhere (new mtimes), the cache restored into another folder.
    rmSync(dir, { recursive: true, force: true });
    copyFixtures("ci");
    const restored = path.join(tmp, "ci-restored-cache");
    cpSync(saved, restored, { recursive: true });
    const second = lint(install("install-2", 90_000), restored);
    expect(second.stdout).toBe(first.stdout);
    expect(counts(second).cachedResult).toBe(1);

    // Run 3: one file changed: no whole-result hit, the other files' facts come from the cache.
    const target = discover([dir], dir).find((f) => f.endsWith(path.join("cross_module", "app", "engine", "sync.py")))!;
    writeFileSync(target, readFileSync(target, "utf8").replace("torch.mps.synchronize()  # expect: MPS001", "pass"));
    const old = new Date(Date.now() - 60_000);
    utimesSync(target, old, old);
    const third = lint(install("install-3", 60_000), restored);
    expect(counts(third).cachedResult).toBeUndefined();
    expect(counts(third).cached).toBeGreaterThan(0);
    expect(third.stdout).toBe(runCli(["--no-cache", "-f", "json", "."], { cwd: dir }).stdout);
  });

  it("is keyed on the linter's contents, not where or when it was installed", () => {
    const a = path.join(tmp, "fp-a");
    const b = path.join(tmp, "fp-b");
    cpSync(path.join(ROOT, "dist", "src"), a, { recursive: true });
    cpSync(path.join(ROOT, "dist", "src"), b, { recursive: true });
    const when = new Date(Date.now() - 3_600_000);
    for (const f of allFiles(b)) utimesSync(f, when, when);
    expect(fingerprintOf([b], "1")).toBe(fingerprintOf([a], "1"));
    expect(fingerprintOf([a], "2")).not.toBe(fingerprintOf([a], "1"));
    writeFileSync(path.join(b, "engine", "engine.js"), readFileSync(path.join(b, "engine", "engine.js"), "utf8") + "\n");
    expect(fingerprintOf([b], "1")).not.toBe(fingerprintOf([a], "1"));
  });
});
