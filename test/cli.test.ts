import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, ROOT, runCli } from "./cli.js";

const BAD = `import threading
import torch

def finish():
    torch.mps.synchronize()

def worker(model, x):
    y = model(x)
    finish()
    return y

threading.Thread(target=worker, args=(None, None)).start()
`;

const GOOD = `import torch

def main(model, x):
    y = model(x)
    torch.mps.synchronize()
    return y
`;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-cli-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("mps-lint CLI", () => {
  it("exits 1 with a stylish report naming the thread path", () => {
    const dir = project({ "serve.py": BAD });
    const r = runCli(["serve.py"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("serve.py");
    expect(r.stdout).toMatch(/5:5\s+error\s+.*reached from Thread\(target=worker\) at line 12 via worker -> finish\s+MPS001/);
    expect(r.stdout).toContain("✖ 1 problem (1 error, 0 warnings)");
  });

  it("exits 0 and prints nothing on clean code", () => {
    const dir = project({ "main.py": GOOD });
    const r = runCli([], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("--exit-zero keeps the report but exits 0", () => {
    const dir = project({ "serve.py": BAD });
    const r = runCli(["--exit-zero", "."], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("MPS001");
  });

  it("prints Ruff's JSON schema with --format json", () => {
    const dir = project({ "serve.py": BAD });
    const r = runCli(["--format", "json", "serve.py"], { cwd: dir });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      code: "MPS001",
      name: "device-sync-in-thread",
      severity: "error",
      filename: path.join(dir, "serve.py"),
      location: { row: 5, column: 5 },
      end_location: { row: 5, column: 28 },
      fix: { applicability: "unsafe", message: expect.stringMatching(/per thread/), edits: expect.any(Array) },
      url: "docs/rules/device-sync-in-thread.md",
    });
    expect(out[0].path.map((p: { label: string }) => p.label)).toEqual(["Thread(target=worker)", "worker", "finish"]);
  });

  it("prints path:line:col: CODE message with --format concise", () => {
    const dir = project({ "serve.py": BAD });
    const r = runCli(["-f", "concise", "."], { cwd: dir });
    expect(r.stdout.split("\n")[0]).toMatch(/^serve\.py:5:5: MPS001 /);
  });

  it("--errors-only drops warnings (the old --quiet; --quiet is Ruff's now, test/adoption-flags.test.ts)", () => {
    const src = `from concurrent.futures import ThreadPoolExecutor\n\ndef work(model, x):\n    return model(x.to("mps"))\n\nwith ThreadPoolExecutor() as p:\n    p.submit(work, None, None)\n`;
    const dir = project({ "w.py": src });
    expect(runCli(["w.py"], { cwd: dir }).stdout).toContain("MPS002");
    const quiet = runCli(["--errors-only", "w.py"], { cwd: dir });
    expect(quiet).toMatchObject({ code: 0, stdout: "" });
  });

  it("exits 2 with a one-line reason for a missing path", () => {
    const r = runCli(["does/not/exist.py"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("mps-lint: does/not/exist.py: no such file or directory");
  });

  it("exits 2 on an unknown option and on an unknown format", () => {
    const flag = runCli(["--no-such-flag"]);
    expect(flag.code).toBe(2);
    expect(flag.stdout).toBe("");
    expect(flag.stderr).toMatch(/^mps-lint: unknown option --no-such-flag/);
    const r = runCli(["-f", "xml", "."]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown format "xml"');
  });

  it("--select and --ignore choose rules", () => {
    const dir = project({ "serve.py": BAD });
    expect(runCli(["--ignore", "MPS001", "."], { cwd: dir }).code).toBe(0);
    expect(runCli(["--select", "MPS002,MPS003", "."], { cwd: dir }).code).toBe(0);
    expect(runCli(["--select", "MPS0", "."], { cwd: dir }).code).toBe(1);
    const unknown = runCli(["--select", "XYZ9", "."], { cwd: dir });
    expect(unknown).toMatchObject({ code: 2, stdout: "" });
    expect(unknown.stderr).toMatch(/^mps-lint: --select: unknown rule selector "XYZ9" \(known: MPS000, MPS001/);
  });

  it("skips virtualenvs, node_modules and what .gitignore ignores", () => {
    const dir = project({
      ".gitignore": "generated/\n",
      "generated/a.py": BAD,
      ".venv/lib/b.py": BAD,
      "env2/pyvenv.cfg": "home = /usr\n",
      "env2/lib/c.py": BAD,
      "node_modules/x/d.py": BAD,
      "build/e.py": BAD,
      "src/ok.py": GOOD,
    });
    mkdirSync(path.join(dir, ".git"));
    const r = runCli(["-f", "concise", "."], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stdout: "All checks passed!\n" });
    // A file named explicitly is linted even where a folder walk would skip it.
    expect(runCli(["generated/a.py"], { cwd: dir }).code).toBe(1);
  });

  it("colours only when asked or on a terminal", () => {
    const dir = project({ "serve.py": BAD });
    expect(runCli(["serve.py"], { cwd: dir }).stdout).not.toContain("\u001b[");
    expect(runCli(["serve.py"], { cwd: dir, env: { FORCE_COLOR: "1" } }).stdout).toContain("\u001b[");
    expect(runCli(["--no-color", "serve.py"], { cwd: dir, env: { FORCE_COLOR: "1" } }).stdout).not.toContain("\u001b[");
  });
});

describe("the bin is the bundle (dist/bundle, scripts/bundle.mjs)", () => {
  it("package.json's bin is what these tests run, with the worker beside it", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(path.resolve(ROOT, pkg.bin["mps-lint"])).toBe(CLI);
    expect(existsSync(path.join(path.dirname(CLI), "worker.js"))).toBe(true);
  });

  it("--version is ours wherever it runs, not the working folder's package.json", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const dir = project({ "package.json": '{ "name": "someone-else", "version": "9.9.9" }\n' });
    expect(runCli(["--version"], { cwd: dir })).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it("writes nothing but its cache into the working folder (rule docs are bundled in, not run)", () => {
    const dir = project({ "serve.py": BAD });
    expect(runCli(["rule", "MPS001"], { cwd: dir }).code).toBe(0);
    expect(runCli(["serve.py"], { cwd: dir }).code).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([".mps_lint_cache", "serve.py"]);
  });

  it("parse workers (-j 2) give the same report as parsing in the main thread", () => {
    const args = ["-f", "json", "--no-cache", "--isolated", path.join(ROOT, "fixtures")];
    const one = runCli(["-j", "1", ...args]);
    const two = runCli(["-j", "2", ...args]);
    expect(one.code).toBe(1);
    expect(two.stderr).toBe(one.stderr);
    expect(two.stdout).toBe(one.stdout);
  });
});

describe("--verify measures what the finding claims (real torch at MPS_LINT_PYTHON or /usr/bin/python3)", () => {
  const PY = process.env.MPS_LINT_PYTHON ?? "/usr/bin/python3";
  const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;
  it.skipIf(!hasTorch)("4 threads x 25 device syncs: the JSON report counts 4 threads and 100 worker syncs", () => {
    const r = runCli(["--verify", "--python", PY, "--device", "cpu", "--verify-repeats", "1", "--isolated", "-f", "json", path.join(ROOT, "fixtures", "verify", "device_sync_threads.py")]);
    expect(r.code).toBe(1);
    const [finding] = (JSON.parse(r.stdout) as { code: string; location: { row: number }; properties?: { verify?: Record<string, unknown> } }[]).filter((d) => d.code === "MPS001");
    expect(finding.location.row).toBe(12);
    expect(finding.properties?.verify).toMatchObject({ status: "ok", reached: true, threads: 4, workerDeviceSyncs: 100 });
  });
});

describe("MPS001 says what the sync costs where it runs", () => {
  const sync = "import threading\nfrom concurrent.futures import ThreadPoolExecutor\nimport torch\n\ndef once():\n    torch.mps.synchronize()\n\ndef pooled(x):\n    torch.mps.synchronize()\n\nthreading.Thread(target=once).start()\nwith ThreadPoolExecutor(4) as pool:\n    pool.map(pooled, range(8))\n";
  const messages = () => {
    const out = JSON.parse(runCli(["-f", "json", "--isolated", "serve.py"], { cwd: project({ "serve.py": sync }) }).stdout) as { message: string; location: { row: number } }[];
    return new Map(out.map((d) => [d.location.row, d.message]));
  };
  it("one thread started once: the sync serializes with other users of the device (a single worker)", () => {
    const m = messages().get(6)!;
    expect(m).toContain("single worker");
    expect(m).not.toContain("every thread");
  });
  it("a pool's workers: the sync waits for every thread's work", () => {
    const m = messages().get(9)!;
    expect(m).toContain("every thread's work");
    expect(m).not.toContain("single worker");
  });
});
