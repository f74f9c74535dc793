// The parser falls back to WebAssembly where the native addon is absent (issue 27): the built
// bundle in a folder whose node_modules has every package but `tree-sitter` (as `npm ci` leaves it
// on a machine where the addon's prebuild does not load and nothing can compile it). There the
// default run must parse with web-tree-sitter and give the same report as the full install; a run
// that forces the missing native backend must stop with exit 2 and the reason, not pass.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "./cli.js";
import { BAD, WARN, project } from "./project.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mps-lint-fallback-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A package folder: dist/bundle copied, package.json, node_modules linked entry by entry less `tree-sitter`. */
function installWithout(missing: string): string {
  const pkg = path.join(tmp, `without-${missing}`);
  mkdirSync(path.join(pkg, "node_modules"), { recursive: true });
  cpSync(path.join(ROOT, "dist", "bundle"), path.join(pkg, "dist", "bundle"), { recursive: true });
  cpSync(path.join(ROOT, "package.json"), path.join(pkg, "package.json"));
  for (const name of readdirSync(path.join(ROOT, "node_modules"))) {
    if (name === missing || name === ".bin") continue;
    symlinkSync(path.join(ROOT, "node_modules", name), path.join(pkg, "node_modules", name));
  }
  return pkg;
}

function run(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", MPS_LINT_PARSER: "", ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("the WebAssembly fallback with the native addon absent", () => {
  const pkg = installWithout("tree-sitter");
  const bin = path.join(pkg, "dist", "bundle", "bin.js");
  const dir = project({ "app/serve.py": BAD, "app/pool.py": WARN, "app/broken.py": "import threading\n\ndef f(:\n    pass\n\nthreading.Thread(target=f).start()\n" });

  it("the copy cannot load the native addon (the premise)", () => {
    const r = spawnSync(process.execPath, ["-e", "require('tree-sitter')"], { cwd: path.join(pkg, "dist", "bundle"), encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Cannot find module 'tree-sitter'/);
  });

  it("`mps-lint version` names the backend in use: wasm there", () => {
    const r = run(bin, ["version"], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mps-lint \d+\.\d+\.\d+ \(parser: wasm\)\n$/);
  });

  it("the default run parses with WebAssembly and reports what the full install reports", () => {
    const args = ["check", "app", "--output-format", "json", "--no-cache"];
    const fallback = run(bin, args, dir);
    const full = runCli(args, { cwd: dir, env: { MPS_LINT_PARSER: "" } });
    expect(fallback.stderr).toBe("");
    expect(fallback.code).toBe(1);
    expect(fallback.stdout).toBe(full.stdout);
    const codes = (JSON.parse(fallback.stdout) as { code: string }[]).map((d) => d.code).sort();
    // MPS000: a syntax error is a finding by default (exit 1), as Ruff reports them.
    expect(codes).toEqual(["MPS000", "MPS001", "MPS002"]);
  });

  it("forcing the absent native backend is exit 2 with the reason, before any file is read", () => {
    const r = run(bin, ["check", "app", "--no-cache"], dir, { MPS_LINT_PARSER: "native" });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^mps-lint: cannot load the tree-sitter Python parser \(native: Cannot find module 'tree-sitter'/);
  });

  it("with neither backend (web-tree-sitter absent too and native forced away), exit 2 names both", () => {
    const none = installWithout("web-tree-sitter");
    // tree-sitter may load in that copy (this machine's addon): then only the wasm half is checked.
    const r = run(path.join(none, "dist", "bundle", "bin.js"), ["check", "app", "--no-cache"], dir, { MPS_LINT_PARSER: "wasm" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mps-lint: cannot load the tree-sitter Python parser \(wasm: /);
  });
});
