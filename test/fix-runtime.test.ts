// Issue 18: a fix never turns running code into failing code.
//
// Every fixtures/fix/<case>.py is run before and after fixing (its <case>.fixed.py, which
// test/fix.test.ts checks is exactly what `--fix --unsafe-fixes` produces) with Debian's torch
// (/usr/bin/python3, CPU) through test/fix-runtime/compare.py: the original must run cleanly and
// the fixed file must print the same, exit the same, raise nothing new (in any thread) and not
// hang. The same compare.py ran under CUDA torch on an NVIDIA GPU (docs/fixes.md, "Evidence").
// Then the structural promises the runs cannot show on a CPU: no new top-level torch import, no
// Event per executor task, deliberate syncs left alone and saying why.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { FIXTURES } from "./harness.js";
import { project } from "./project.js";

const PY = "/usr/bin/python3";
const hasTorch = existsSync(PY) && spawnSync(PY, ["-c", "import torch"]).status === 0;
const COMPARE = path.join(import.meta.dirname, "fix-runtime", "compare.py");
const FIX_DIR = path.join(FIXTURES, "fix");
const CASES = readdirSync(FIX_DIR)
  .filter((f) => f.endsWith(".py") && !f.endsWith(".fixed.py"))
  .sort();
const REAL_DIR = path.join(FIXTURES, "fix-real");

function compare(files: string[]): { code: number | null; out: string } {
  // A generous limit: a hang shows as a TIMEOUT line, not as a stuck test run.
  const r = spawnSync(PY, [COMPARE, "--timeout", "120", ...files], { encoding: "utf8", timeout: 600_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe.skipIf(!hasTorch)("fixed fixtures run as the originals did (torch on the CPU)", () => {
  for (const name of CASES) {
    it(name, () => {
      const r = compare([path.join(FIX_DIR, name)]);
      expect(r.out, r.out).not.toContain("FAIL");
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/: ok \| \S/);
    });
  }

  it("the harness catches a fix that calls a backend outside the code's own check, or hangs", () => {
    // The shape of the earlier MPS001 fix (issue 18, cases 1 and 4): the Event made first in the
    // worker, above its backend check and its `try:`.
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-fixrt-"));
    const original = readFileSync(path.join(FIX_DIR, "guarded_backend.py"), "utf8");
    writeFileSync(path.join(dir, "case.py"), original);
    const bad = original.replace("def worker(device, jobs, results):\n", "def worker(device, jobs, results):\n    event = torch.cuda.Event()\n");
    expect(bad).not.toBe(original);
    writeFileSync(path.join(dir, "case.fixed.py"), bad.replace("results.get(timeout=120)", "results.get(timeout=5)"));
    const r = compare([path.join(dir, "case.py")]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL: the fixed file behaves differently");
  });
});

describe("what a fix may add", () => {
  const fixedOf = (name: string) => readFileSync(path.join(FIX_DIR, name.replace(/\.py$/, ".fixed.py")), "utf8");
  const topImports = (src: string) => new Set(src.split("\n").filter((l) => /^(import|from)\s/.test(l)));

  it("no new top-level import but threading; never a new `import torch`", () => {
    for (const name of CASES) {
      const before = topImports(readFileSync(path.join(FIX_DIR, name), "utf8"));
      const added = [...topImports(fixedOf(name))].filter((l) => !before.has(l));
      expect(added.filter((l) => l !== "import threading"), name).toEqual([]);
    }
  });

  it("the module's own torch binding: `import torch as T` gives T.mps, a local import its own name", () => {
    const out = fixedOf("torch_alias.py");
    expect(out).toContain("        _mps_lint_event_sync(T.mps)\n");
    expect(out).toContain("        _mps_lint_event_sync(torch.cuda)\n");
    expect(out).not.toMatch(/^import torch$/m);
  });

  it("the wait stays inside the backend check and the try: the sync line is replaced where it stands", () => {
    const out = fixedOf("guarded_backend.py");
    expect(out).toContain('    try:\n        for x in jobs:\n            y = (x.to(device) * 2).sum()\n            if device == "cuda":\n                _mps_lint_event_sync(torch.cuda)\n');
    expect(out).toContain('    if dev == "mps":\n        _mps_lint_event_sync(torch.mps)\n');
  });

  it("one Event per thread and device, never per call or per executor task", () => {
    const out = fixedOf("executor_tasks.py");
    // The only Event constructor is the helper's, made once per (thread, backend, device) key.
    expect(out.match(/\.Event\(/g)).toHaveLength(1);
    expect(out).toContain("    if key not in events:\n        stream = backend.current_stream(device) if hasattr(backend, \"current_stream\") else None\n        events[key] = (backend.Event(), stream)\n");
    expect(out).toContain('    key = (backend.__name__, device if device is not None or current_device is None else current_device())\n');
    // The device of `torch.cuda.synchronize(d)` is passed on.
    expect(fixedOf("multi_device.py")).toContain("            _mps_lint_event_sync(torch.cuda, d)\n");
  });

  it("MPS004's safe wait needs neither torch.accelerator nor CUDA, and imports torch only when it runs", () => {
    for (const name of ["timing_agnostic.py", "timing_two_backends.py", "optional_torch.py"]) {
      const out = fixedOf(name);
      expect(out, name).toContain("_mps_lint_wait_for_device()\n");
      const code = out.split("\n").filter((l) => !l.trimStart().startsWith("#")).join("\n");
      expect(code, name).not.toContain("accelerator");
      expect(out, name).toContain("def _mps_lint_wait_for_device():\n");
      expect(out, name).toContain("    in_use = [torch.cuda] if torch.cuda.is_available() and torch.cuda.is_initialized() else []\n");
    }
  });

  it("MPS005 moves an Event only where it was made on every iteration; a loop that may not run makes the fix unsafe", () => {
    const conditional = `import threading
import torch


def worker(model, xs, dev):
    for x in xs:
        if dev == "cuda":
            ev = torch.cuda.Event()
            ev.record()
            ev.synchronize()
        model(x)


def maybe_empty(model, xs):
    for x in xs:
        ev = torch.mps.Event()
        model(x)
        ev.record()
        ev.synchronize()


threading.Thread(target=worker, args=(None, [], "cpu")).start()
threading.Thread(target=maybe_empty, args=(None, [])).start()
`;
    const dir = project({ "w.py": conditional });
    const json = JSON.parse(runCli(["--isolated", "-f", "json", "--select", "MPS005", "w.py"], { cwd: dir }).stdout);
    const at = (row: number) => json.find((d: { location: { row: number } }) => d.location.row === row);
    expect(at(8)).toBeDefined();
    expect(at(8).fix).toBeNull();
    expect(at(16).fix.applicability).toBe("unsafe");
    expect(at(16).fix.message).toContain("even when the loop runs no iteration");
  });
});

describe("deliberate device syncs: reported, no fix, and the reason", () => {
  it("a sync-mode benchmark's device arm, a wait meant to cover other threads, one after a hand-over", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-nofix-"));
    const src = readFileSync(path.join(FIX_DIR, "nofix", "deliberate.py"), "utf8");
    writeFileSync(path.join(dir, "deliberate.py"), src);
    const json = JSON.parse(runCli(["--isolated", "-f", "json", "deliberate.py"], { cwd: dir }).stdout);
    const mps001 = json.filter((d: { code: string }) => d.code === "MPS001");
    expect(mps001.map((d: { location: { row: number } }) => d.location.row)).toEqual([17, 27, 34, 41, 47, 55]);
    expect(mps001.every((d: { fix: unknown }) => d.fix === null)).toBe(true);
    expect(mps001[0].message).toContain("(no fix offered: it is one arm of a sync-mode choice (device sync against another way to wait)");
    expect(mps001[1].message).toContain("(no fix offered: a comment ties this wait to more than this thread's work)");
    expect(mps001[2].message).toContain("(no fix offered: it is in `measure_event_sync_vs_device_sync`, a benchmark or test about syncing itself");
    expect(mps001[3].message).toContain("(no fix offered: a comment ties this wait to more than this thread's work)");
    expect(mps001[4].message).toContain("(no fix offered: it follows `requests.get()`, tensors handed over by another thread");
    expect(mps001[5].message).toContain("(no fix offered: it is the naive baseline of a benchmark (`baseline_worker`)");
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "deliberate.py"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(readFileSync(path.join(dir, "deliberate.py"), "utf8")).toBe(src);
  });

  it("a comment that calls the sync a mistake does not make it deliberate", () => {
    const dir = project({
      "w.py": "import threading\nimport torch\n\n\ndef worker():\n    # WRONG: waits for every thread's work\n    torch.mps.synchronize()\n\n\nthreading.Thread(target=worker).start()\n",
    });
    const json = JSON.parse(runCli(["--isolated", "-f", "json", "w.py"], { cwd: dir }).stdout);
    expect(json[0].fix.edits.some((e: { content: string }) => e.content === "_mps_lint_event_sync(torch.mps)")).toBe(true);
  });

  it("no per-thread form for torch.accelerator or a backend chosen at run time", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-nofix-"));
    writeFileSync(path.join(dir, "a.py"), readFileSync(path.join(FIX_DIR, "nofix", "accelerator.py"), "utf8"));
    const json = JSON.parse(runCli(["--isolated", "-f", "json", "a.py"], { cwd: dir }).stdout);
    expect(json.filter((d: { code: string }) => d.code === "MPS001")).toHaveLength(2);
    expect(json.every((d: { fix: unknown }) => d.fix === null)).toBe(true);
  });
});

// Issue 30: real patterns whose fixes broke code. Each is fixed by the CLI itself (not a committed
// .fixed.py), then run and imported before and after with torch 1.13: a file that ran and
// imported before does so after, with the same output. Where the fix would change what the code
// means (a wait blocking an event loop, a wait on the exception path, a host timer turned into
// host + device time), no fix is offered and the file stays as it was.
describe("real patterns: what the CLI's fix makes of them runs and imports as the original did", () => {
  const REAL: { name: string; changes: boolean; why: string }[] = [
    { name: "late_import.py", changes: true, why: "helpers after every import they need: the module's own `import threading` comes after `os.environ` setup" },
    { name: "async_timing.py", changes: false, why: "no blocking wait in an `async def`, nor in a function an `async def` calls" },
    { name: "finally_timing.py", changes: false, why: "no fix inside `finally:`" },
    { name: "host_device_bench.py", changes: false, why: "the host timer of a host/device benchmark stays a host timer" },
    { name: "phase_breakdown.py", changes: false, why: "a profile that times the wait as a phase of its own keeps its phases" },
  ];

  function fixedCopy(name: string): { dir: string; original: string; fixed: string; stderr: string } {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-fixreal-"));
    const original = readFileSync(path.join(REAL_DIR, name), "utf8");
    writeFileSync(path.join(dir, "case.py"), original);
    writeFileSync(path.join(dir, "work.py"), original);
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "work.py"], { cwd: dir });
    const fixed = readFileSync(path.join(dir, "work.py"), "utf8");
    writeFileSync(path.join(dir, "case.fixed.py"), fixed);
    return { dir, original, fixed, stderr: r.stderr };
  }

  for (const c of REAL) {
    it(`${c.name}: ${c.why}`, () => {
      const { dir, original, fixed, stderr } = fixedCopy(c.name);
      expect(stderr).not.toContain("internal error");
      if (c.changes) expect(fixed).not.toBe(original);
      else expect(fixed).toBe(original);
      // The fixed file raises no finding the original did not have (MPS006 for a wait put into an
      // event loop's path, in particular).
      const codes = (file: string) => JSON.parse(runCli(["--isolated", "-f", "json", file], { cwd: dir }).stdout).map((d: { code: string }) => d.code);
      const before = new Set(codes("case.py"));
      expect(codes("case.fixed.py").filter((code: string) => !before.has(code))).toEqual([]);
      if (!hasTorch) return;
      const r = spawnSync(PY, [COMPARE, "--timeout", "120", "--also-import", path.join(dir, "case.py")], { encoding: "utf8", timeout: 600_000 });
      const out = r.stdout + r.stderr;
      expect(out, out).not.toContain("FAIL");
      expect(r.status, out).toBe(0);
      expect(out).toContain("case.py --import: ok | imported");
    });
  }

  it("the fix adds no wait where one is refused, but still fixes the same timing elsewhere", () => {
    // The same timing in a plain function, called from no async def, outside `finally:`, with no
    // Event timing beside it: fixed as before.
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-fixreal-"));
    const src = `import time

import torch


def forward_timed(model, x):
    start = time.perf_counter()
    y = model(x.to("cuda"))
    took = time.perf_counter() - start
    return y, took
`;
    writeFileSync(path.join(dir, "plain.py"), src);
    runCli(["--isolated", "--fix", "plain.py"], { cwd: dir });
    expect(readFileSync(path.join(dir, "plain.py"), "utf8")).toContain("    _mps_lint_wait_for_device()\n    took = time.perf_counter() - start\n");
  });
});
