// The committed self-contained build, standalone/ (scripts/bundle.mjs --standalone), which the
// GitHub Action and the pre-commit hook run and the Python wheel carries: it must be what the
// sources build (a fresh build into a temporary folder, compared file by file: a stale commit
// fails here, in CI), and it must run on its own, copied where no node_modules is, with the same
// report as the npm package's WebAssembly parser, parse workers included.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "./cli.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mps-lint-standalone-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const COMMITTED = path.join(ROOT, "standalone");

describe("standalone/", () => {
  it("is what the sources build (npm run build:standalone), byte for byte, modes included", () => {
    const fresh = path.join(tmp, "fresh");
    const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "bundle.mjs"), "--standalone", fresh], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(fresh).sort();
    expect(readdirSync(COMMITTED).sort(), "run npm run build:standalone and commit standalone/").toEqual(files);
    for (const f of files) {
      expect(readFileSync(path.join(COMMITTED, f)).equals(readFileSync(path.join(fresh, f))), `standalone/${f} is stale: run npm run build:standalone`).toBe(true);
      expect(statSync(path.join(COMMITTED, f)).mode & 0o111, f).toBe(statSync(path.join(fresh, f)).mode & 0o111);
    }
  });

  it("runs where no node_modules is, with the WebAssembly parser, and reports what the package reports", () => {
    const copy = path.join(tmp, "elsewhere", "standalone");
    cpSync(COMMITTED, copy, { recursive: true });
    const bin = path.join(copy, "mps-lint");
    const version = spawnSync(bin, ["version"], { encoding: "utf8" });
    expect(version.stdout).toMatch(/^mps-lint \d+\.\d+\.\d+ \(parser: wasm\)\n$/);
    const args = ["-f", "json", "-n", "--isolated", "-j", "2", path.join(ROOT, "fixtures")];
    const alone = spawnSync(bin, args, { encoding: "utf8", maxBuffer: 1 << 26 });
    const pkg = runCli(args, { env: { MPS_LINT_PARSER: "wasm" } });
    expect(alone.status).toBe(1);
    expect(alone.stderr).toBe(pkg.stderr);
    expect(alone.stdout).toBe(pkg.stdout);
    expect((JSON.parse(alone.stdout) as unknown[]).length).toBeGreaterThan(50);
  });
});
