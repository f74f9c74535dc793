// The install routes docs/install.md gives, for real: the tarball from `npm pack` installed with
// --ignore-scripts (nothing compiled: no install script runs, so no C++ toolchain is needed) into
// a throwaway project and globally (npm install -g --prefix), each then linting a project with a
// device sync in a thread worker. Also both parser backends (src/facts/parse.ts) on the installed
// package: MPS_LINT_PARSER=wasm must give the same findings as whatever loads by default.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./cli.js";

const WORKER = `import threading
import torch

def worker(model, x):
    y = model(x)
    torch.mps.synchronize()
    return y

threading.Thread(target=worker, args=(None, None)).start()
`;

const tmp = mkdtempSync(path.join(os.tmpdir(), "mps-lint-install-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 300_000 });
}

const codes = (out: string): string[] => (JSON.parse(out) as { code: string }[]).map((f) => f.code);

describe("install from the packed tarball", () => {
  it("installs with --ignore-scripts into a project and globally, and lints another project", () => {
    // dist/ is built by `pretest`; --ignore-scripts keeps `prepare` from building it again.
    const pack = sh("npm", ["pack", "--ignore-scripts", "--pack-destination", tmp], ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const tgz = path.join(tmp, readdirSync(tmp).find((f) => f.endsWith(".tgz"))!);

    const project = path.join(tmp, "project");
    mkdirSync(path.join(project, "app"), { recursive: true });
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "demo", private: true }));
    writeFileSync(path.join(project, "app", "worker.py"), WORKER);
    const npmFlags = ["--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"];
    const install = sh("npm", ["install", ...npmFlags, tgz], project);
    expect(install.status, install.stderr).toBe(0);
    // Nothing was compiled: node-gyp would have left a build folder.
    expect(existsSync(path.join(project, "node_modules", "tree-sitter", "build"))).toBe(false);

    const bin = path.join(project, "node_modules", ".bin", "mps-lint");
    const lint = sh(bin, ["check", "app", "--output-format", "json", "--no-cache"], project);
    expect(lint.stderr).toBe("");
    expect(lint.status).toBe(1);
    expect(codes(lint.stdout)).toEqual(["MPS001"]);
    const wasm = sh(bin, ["app", "-f", "json", "--no-cache"], project, { MPS_LINT_PARSER: "wasm" });
    expect(wasm.status, wasm.stderr).toBe(1);
    expect(wasm.stdout).toBe(lint.stdout);

    const prefix = path.join(tmp, "global");
    const global = sh("npm", ["install", "-g", "--prefix", prefix, ...npmFlags, tgz], tmp);
    expect(global.status, global.stderr).toBe(0);
    const globalLint = sh(path.join(prefix, "bin", "mps-lint"), ["app", "-f", "json", "--no-cache"], project);
    expect(globalLint.status, globalLint.stderr).toBe(1);
    expect(codes(globalLint.stdout)).toEqual(["MPS001"]);
  }, 600_000);
});
