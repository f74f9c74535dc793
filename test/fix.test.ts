// --fix, --unsafe-fixes, --diff, --fix-only, --show-fixes (issue 9).
//
// Every fixtures/fix/<case>.py (and the verify guide example) is fixed through the built CLI on a
// temporary copy: the result must equal <case>.fixed.py, compile with a real Python, lint clean
// for the fixable codes, and a second --fix must change nothing. UPDATE_FIXED=1 rewrites the
// .fixed.py files from the current output (review the diff before committing).

import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyFixes, fixLoop, unifiedDiff } from "../src/fix/fix.js";
import type { Diagnostic, Fix } from "../src/types.js";
import { runVerify } from "../src/verify/index.js";
import { runCli } from "./cli.js";
import { FIXTURES } from "./harness.js";
import { project } from "./project.js";

const PY = "/usr/bin/python3";
const hasPython = existsSync(PY);
const hasTorch = hasPython && spawnSync(PY, ["-c", "import torch"]).status === 0;
const FIXABLE = "MPS001,MPS003,MPS004,MPS005";

/** Compile with Python without leaving __pycache__ behind. */
function pyCompile(file: string): { ok: boolean; err: string } {
  const r = spawnSync(PY, ["-c", "import py_compile, sys, tempfile, os; py_compile.compile(sys.argv[1], cfile=os.path.join(tempfile.mkdtemp(), 'x.pyc'), doraise=True)", file], { encoding: "utf8" });
  return { ok: r.status === 0, err: r.stderr };
}

const PAIRS: { name: string; input: string; fixed: string }[] = [
  ...readdirSync(path.join(FIXTURES, "fix"))
    .filter((f) => f.endsWith(".py") && !f.endsWith(".fixed.py"))
    .sort()
    .map((f) => ({ name: `fix/${f}`, input: path.join(FIXTURES, "fix", f), fixed: path.join(FIXTURES, "fix", f.replace(/\.py$/, ".fixed.py")) })),
  {
    name: "verify/guide_example_device_sync.py",
    input: path.join(FIXTURES, "verify", "guide_example_device_sync.py"),
    fixed: path.join(FIXTURES, "verify", "guide_example_fixed.py"),
  },
];

function fixCopy(input: string, args: string[] = ["--fix", "--unsafe-fixes", "--fix-only"]): { dir: string; file: string; run: ReturnType<typeof runCli> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-fix-"));
  const file = path.join(dir, path.basename(input));
  copyFileSync(input, file);
  const run = runCli(["--isolated", ...args, path.basename(file)], { cwd: dir });
  return { dir, file, run };
}

describe("fixture pairs: --fix --unsafe-fixes gives <case>.fixed.py", () => {
  for (const pair of PAIRS) {
    it(pair.name, () => {
      expect(existsSync(pair.fixed), `${pair.fixed} is missing`).toBe(true);
      const { dir, file, run } = fixCopy(pair.input);
      expect(run.code, run.stderr).toBe(0);
      const out = readFileSync(file, "utf8");
      if (process.env.UPDATE_FIXED) writeFileSync(pair.fixed, out);
      expect(out).not.toBe(readFileSync(pair.input, "utf8"));
      expect(out).toBe(readFileSync(pair.fixed, "utf8"));
      if (hasPython) {
        const c = pyCompile(file);
        expect(c.ok, c.err).toBe(true);
      }
      // Lints clean for the fixable codes, and a second --fix changes nothing.
      const again = runCli(["--isolated", "--fix", "--unsafe-fixes", "-f", "json", "--select", FIXABLE, path.basename(file)], { cwd: dir });
      expect(JSON.parse(again.stdout)).toEqual([]);
      expect(again.stderr).toContain("Fixed 0 problems, 0 remaining.");
      expect(readFileSync(file, "utf8")).toBe(out);
    });
  }

  it.skipIf(!hasTorch)("the fixed program runs, threads and all (CPU stand-ins of the --verify runner)", async () => {
    const { file } = fixCopy(path.join(FIXTURES, "fix", "runnable.py"));
    const src = readFileSync(file, "utf8").split("\n");
    const row = src.findIndex((l) => l.includes("_mps_lint_event_sync(torch.mps)"));
    expect(row).toBeGreaterThan(0);
    const d: Diagnostic = {
      code: "MPS001",
      name: "device-sync-in-thread",
      severity: "error",
      message: "run",
      file,
      range: { start: { row, column: 4 }, end: { row, column: 10 } },
      path: [],
      fix: null,
      url: "",
    };
    const report = await runVerify([d], { python: PY, device: "cpu", timeoutS: 60, verbose: false, warmup: 0, repeats: 1, handleSigint: false });
    const t = report.targets[0];
    expect(t.error).toBeNull();
    expect(t.status).toBe("ok");
    expect(t.threadsStarted).toBeGreaterThan(0);
  });
});

const MIXED = `import threading
import torch


def worker(model, xs):
    for _ in range(3):
        ev = torch.mps.Event()
        model(xs)
        ev.record()
        ev.synchronize()
    torch.mps.synchronize()


threading.Thread(target=worker, args=(None, [])).start()
`;

describe("applicability: safe fixes with --fix, unsafe ones only with --unsafe-fixes", () => {
  it("--fix applies the safe MPS005 fix and leaves the unsafe MPS001 one, counted as hidden", () => {
    const dir = project({ "w.py": MIXED });
    const r = runCli(["--isolated", "--fix", "w.py"], { cwd: dir });
    expect(r.code).toBe(1);
    const out = readFileSync(path.join(dir, "w.py"), "utf8");
    expect(out).toContain("    ev = torch.mps.Event()\n    for _ in range(3):\n");
    expect(out).toContain("    torch.mps.synchronize()\n");
    expect(r.stdout).toContain("MPS001");
    expect(r.stdout).not.toContain("MPS005");
    expect(r.stdout).toContain("No fixes available (1 hidden fix can be enabled with --unsafe-fixes)");
    expect(r.stderr).toContain("Fixed 1 problem, 1 remaining.");
  });

  it("without --fix the report counts fixable findings as Ruff does", () => {
    const dir = project({ "w.py": MIXED });
    expect(runCli(["--isolated", "w.py"], { cwd: dir }).stdout).toContain("1 fixable with --fix (1 hidden fix can be enabled with --unsafe-fixes)");
    expect(runCli(["--isolated", "--unsafe-fixes", "w.py"], { cwd: dir }).stdout).toContain("2 fixable with --fix\n");
    expect(readFileSync(path.join(dir, "w.py"), "utf8")).toBe(MIXED);
  });

  it("--fix --unsafe-fixes applies both; exit 0 when nothing is left", () => {
    const dir = project({ "w.py": MIXED });
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "w.py"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    const out = readFileSync(path.join(dir, "w.py"), "utf8");
    expect(out).toContain("\n    _mps_lint_event_sync(torch.mps)\n");
    expect(out).not.toMatch(/^ *torch\.mps\.synchronize\(\)/m);
  });
});

describe("--diff, --fix-only, --show-fixes, standard input", () => {
  it("--diff prints a unified diff, changes nothing and exits 1; 0 when there is nothing to fix", () => {
    const dir = project({ "w.py": MIXED, "ok.py": "x = 1\n" });
    const r = runCli(["--isolated", "--diff", "--unsafe-fixes", "w.py"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(readFileSync(path.join(dir, "w.py"), "utf8")).toBe(MIXED);
    expect(r.stdout).toMatch(/^--- w\.py\n\+\+\+ w\.py\n@@ -\d+,\d+ \+\d+,\d+ @@\n/);
    expect(r.stdout).toContain("-    torch.mps.synchronize()\n+    _mps_lint_event_sync(torch.mps)\n");
    expect(r.stderr).toContain("Would fix 2 problems.");
    const clean = runCli(["--isolated", "--diff", "ok.py"], { cwd: dir });
    expect(clean).toMatchObject({ code: 0, stdout: "" });
    // Only safe fixes without --unsafe-fixes.
    const safe = runCli(["--isolated", "--diff", "w.py"], { cwd: dir });
    expect(safe.stdout).not.toContain("_mps_lint_event_sync");
    expect(safe.stderr).toContain("Would fix 1 problem.");
  });

  it("--fix-only fixes, reports nothing and exits 0 though findings remain", () => {
    const src = MIXED.replace("    torch.mps.synchronize()\n", "    getattr(torch, 'mps').synchronize()\n    torch.get_device_module(dev).synchronize()\n");
    const dir = project({ "w.py": src });
    const r = runCli(["--isolated", "--fix-only", "--unsafe-fixes", "w.py"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("Fixed 1 problem.\n");
    expect(readFileSync(path.join(dir, "w.py"), "utf8")).toContain("torch.get_device_module(dev).synchronize()");
  });

  it("--show-fixes lists what was fixed per file and rule, and shows each finding's fix otherwise", () => {
    const dir = project({ "w.py": MIXED });
    const listed = runCli(["--isolated", "--show-fixes", "w.py"], { cwd: dir });
    expect(listed.stdout).toContain("fix (unsafe): Wait for this thread's work only (per-thread event sync): `_mps_lint_event_sync(torch.mps)`");
    expect(listed.stdout).toContain("fix (safe): Create the Event once, before the loop");
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "--show-fixes", "w.py"], { cwd: dir });
    expect(r.stderr).toContain("Fixed 2 problems:\n- w.py:\n    1 × MPS001 (device-sync-in-thread)\n    1 × MPS005 (event-in-loop)\n");
  });

  it("standard input: the fixed source goes to stdout, the report to stderr", () => {
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "--stdin-filename", "w.py", "-"], { input: MIXED, cwd: project({}) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("event.synchronize()");
    expect(r.stdout).toContain("ev = torch.mps.Event()\n    for _ in range(3):");
    expect(r.stderr).toContain("Fixed 2 problems, 0 remaining.");
  });

  it("--fix cannot be combined with --add-noqa", () => {
    const r = runCli(["--isolated", "--fix", "--add-noqa", "."], { cwd: project({ "w.py": MIXED }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--fix and --add-noqa cannot be used together");
  });
});

describe("what fixes keep", () => {
  it("CRLF line endings, tab indentation, the BOM and the file mode", () => {
    const src = "\uFEFF" + MIXED.replace(/ {4}/g, "\t").replace(/\n/g, "\r\n");
    const dir = project({ "w.py": "" });
    const file = path.join(dir, "w.py");
    writeFileSync(file, src);
    chmodSync(file, 0o755);
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "w.py"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = readFileSync(file, "utf8");
    expect(out.startsWith("\uFEFF")).toBe(true);
    expect(out).not.toMatch(/[^\r]\n/);
    expect(out).not.toMatch(/^ +\S/m);
    expect(out).toContain("\r\n\tev = torch.mps.Event()\r\n\tfor _ in range(3):\r\n");
    expect(out).toContain("\r\n\t_mps_lint_event_sync(torch.mps)\r\n");
    expect(out).toContain("\r\n\tevent.synchronize()\r\n");
    expect(statSync(file).mode & 0o777).toBe(0o755);
    if (hasPython) expect(pyCompile(file).ok).toBe(true);
    // Idempotent on CRLF too.
    runCli(["--isolated", "--fix", "--unsafe-fixes", "w.py"], { cwd: dir });
    expect(readFileSync(file, "utf8")).toBe(out);
  });

  it("JSON and SARIF carry each fix's edits and applicability", () => {
    const dir = project({ "w.py": MIXED });
    const json = JSON.parse(runCli(["--isolated", "-f", "json", "w.py"], { cwd: dir }).stdout);
    const mps001 = json.find((d: { code: string }) => d.code === "MPS001");
    expect(mps001.fix.applicability).toBe("unsafe");
    expect(mps001.fix.edits).toContainEqual({ content: "_mps_lint_event_sync(torch.mps)", location: { row: 11, column: 5 }, end_location: { row: 11, column: 28 } });
    const mps005 = json.find((d: { code: string }) => d.code === "MPS005");
    expect(mps005.fix.applicability).toBe("safe");
    const sarif = JSON.parse(runCli(["--isolated", "-f", "sarif", "w.py"], { cwd: dir }).stdout);
    const res = sarif.runs[0].results.find((r: { ruleId: string }) => r.ruleId === "MPS001");
    expect(res.fixes[0].properties.applicability).toBe("unsafe");
    expect(res.fixes[0].artifactChanges[0].replacements).toContainEqual({
      deletedRegion: { startLine: 11, startColumn: 5, endLine: 11, endColumn: 28 },
      insertedContent: { text: "_mps_lint_event_sync(torch.mps)" },
    });
  });

  it("a file that does not parse is not fixed", () => {
    const dir = project({ "w.py": MIXED + "def broken(:\n" });
    const r = runCli(["--isolated", "--fix", "--unsafe-fixes", "w.py"], { cwd: dir });
    expect(readFileSync(path.join(dir, "w.py"), "utf8")).toBe(MIXED + "def broken(:\n");
    expect(r.stderr).toContain("Fixed 0 problems");
  });
});

// ---- the engine on its own ------------------------------------------------------------------------

function diagWith(file: string, row: number, code: string, fix: Fix): Diagnostic {
  return { code, name: code, severity: "error", message: "m", file, range: { start: { row, column: 0 }, end: { row, column: 1 } }, path: [], fix, url: "" };
}
const ins = (at: number, content: string) => ({ range: { start: { row: 0, column: at }, end: { row: 0, column: at } }, startOffset: at, endOffset: at, content });
const rep = (s: number, e: number, content: string) => ({ range: { start: { row: 0, column: s }, end: { row: 0, column: e } }, startOffset: s, endOffset: e, content });

describe("applying edits", () => {
  it("applies non-overlapping fixes, shares identical edits, defers overlapping ones", () => {
    const text = "a = 1\nb = 2\n";
    const f1: Fix = { applicability: "safe", message: "1", edits: [ins(0, "import x\n"), rep(4, 5, "10")] };
    const f2: Fix = { applicability: "safe", message: "2", edits: [ins(0, "import x\n"), rep(10, 11, "20")] };
    const f3: Fix = { applicability: "safe", message: "3", edits: [rep(4, 5, "99")] };
    const r = applyFixes(text, [diagWith("f", 0, "A", f1), diagWith("f", 1, "B", f2), diagWith("f", 0, "C", f3)]);
    expect(r.text).toBe("import x\na = 10\nb = 20\n");
    expect(r.applied.map((d) => d.fix!.message)).toEqual(["1", "2"]);
    expect(r.deferred.map((d) => d.fix!.message)).toEqual(["3"]);
  });

  it("a fix whose result would not parse is not applied and is reported", () => {
    const text = "x = 1\ny = 2\n";
    const bad: Fix = { applicability: "safe", message: "breaks it", edits: [rep(0, 5, "x = (")] };
    const good: Fix = { applicability: "safe", message: "fine", edits: [rep(10, 11, "3")] };
    const out = fixLoop({
      diagnostics: [diagWith("f.py", 0, "MPS005", bad), diagWith("f.py", 1, "MPS005", good)],
      source: () => text,
      relint: () => [],
      unsafe: false,
      editable: () => true,
    });
    expect(out.texts.get("f.py")).toBe("x = 1\ny = 3\n");
    expect(out.problems).toEqual([{ file: "f.py", message: "MPS005 fix at line 1 would not parse; not applied (breaks it)" }]);
    const alone = fixLoop({ diagnostics: [diagWith("f.py", 0, "MPS005", bad)], source: () => text, relint: () => [], unsafe: false, editable: () => true });
    expect(alone.texts.size).toBe(0);
  });

  it("stops after MAX_PASSES when fixes keep coming, and says so", () => {
    let n = 0;
    const again = (): Diagnostic[] => [diagWith("f.py", 0, "MPS005", { applicability: "safe", message: "more", edits: [ins(0, `# ${n++}\n`)] })];
    const out = fixLoop({ diagnostics: again(), source: () => "x = 1\n", relint: again, unsafe: false, editable: () => true, maxPasses: 3 });
    expect(out.converged).toBe(false);
    expect(out.texts.get("f.py")!.split("\n").filter((l) => l.startsWith("#"))).toHaveLength(3);
  });

  it("unified diff", () => {
    expect(unifiedDiff("a\nb\nc\n", "a\nB\nc\n", "f", "f")).toBe("--- f\n+++ f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    expect(unifiedDiff("a", "a\nb", "f", "f")).toBe("--- f\n+++ f\n@@ -1,1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n\\ No newline at end of file\n");
    expect(unifiedDiff("same\n", "same\n", "f", "f")).toBe("");
  });
});
