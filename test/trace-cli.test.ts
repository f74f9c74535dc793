// `mps-lint trace`: the built CLI runs REAL Python with REAL torch (Debian's 1.13, CPU) on the
// fixtures in fixtures/trace/, re-targeted to the CPU (--device cpu), and joins what ran with the
// static findings. Each case runs in a copy of the fixtures, so "nothing written" can be checked.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { describe, expect, it } from "vitest";

import { ROOT, runCli } from "./cli.js";

const PY = process.env.MPS_LINT_PYTHON ?? "/usr/bin/python3";
const FX = resolve(ROOT, "fixtures/trace");
const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;
// In CI a missing pytest fails the pytest cases instead of skipping them.
const hasPytest = spawnSync(PY, ["-c", "import pytest"]).status === 0 || !!process.env.CI;
const d = describe.skipIf(!hasTorch);

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "mps-lint-trace-"));
  cpSync(FX, dir, { recursive: true });
  return dir;
}
const listing = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

type Item = {
  code: string;
  filename: string;
  location: { row: number };
  message: string;
  path: { filename: string; location: { row: number }; label: string }[];
  properties?: { trace?: Record<string, unknown> };
};

d("mps-lint trace", () => {
  it("confirms a static finding with its cost, leaves the rest not exercised, writes nothing", () => {
    const dir = project();
    const before = listing(dir);
    const r = runCli(["trace", "--device", "cpu", ".", "--", PY, "threads_sync.py"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const [confirmed, rest] = r.stdout.split("Not exercised");
    expect(confirmed).toContain("Confirmed (the analysis and the run agree)");
    expect(confirmed).toMatch(/threads_sync\.py:13:9 {2}error {2}MPS001/);
    expect(confirmed).toMatch(/observed: 15 waits on 3 threads \(threading\.Thread\(target=worker\)\), blocked .* in all, p95 .*, max /);
    // the main thread's sync at line 30 is no finding of either kind; other files' findings were not run
    expect(r.stdout).not.toMatch(/threads_sync\.py:30/);
    expect(rest).toMatch(/executor_sync\.py:11:5 {2}error {2}MPS001/);
    expect(r.stdout).toMatch(/^\d+ confirmed, 0 runtime only, \d+ not exercised/m);
    expect(r.stdout).toContain("re-targeted to cpu");
    expect(listing(dir)).toEqual(before);
  });

  it("reports what the analysis missed, with the construct the static witness lacks (text and JSON)", () => {
    const dir = project();
    const text = runCli(["trace", "--device", "cpu", "missed_call.py", "--", PY, "missed_call.py"], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("1 confirmed, 1 runtime only, 0 not exercised");
    expect(text.stdout).toContain("missing from the static witness: the call at missed_call.py:20 from dispatch() into helper() is not in the static call graph");
    expect(text.stdout).toMatch(/runtime witness:\n\s+missed_call\.py:29 {2}threading\.Thread\(target=worker\)\n\s+missed_call\.py:25 {2}worker\n\s+missed_call\.py:20 {2}dispatch\n\s+missed_call\.py:16 {2}torch\.mps\.synchronize/);

    const j = runCli(["trace", "--device", "cpu", "-f", "json", "missed_call.py", "--", PY, "missed_call.py"], { cwd: dir });
    expect(j.code, j.stderr).toBe(0);
    const items = JSON.parse(j.stdout) as Item[];
    const confirmed = items.find((x) => x.location.row === 12)!;
    expect(confirmed.code).toBe("MPS001");
    expect(confirmed.properties!.trace).toMatchObject({ status: "confirmed", waits: 1, threads: 1, started_by: ["threading.Thread(target=worker)"] });
    const only = items.find((x) => x.properties?.trace?.status === "runtime-only")!;
    expect(only).toMatchObject({ code: "MPS001", name: "device-sync-in-thread", location: { row: 16 } });
    expect(only.filename).toBe(join(dir, "missed_call.py"));
    expect(only.path.map((p) => [p.location.row, p.label])).toEqual([[29, "threading.Thread(target=worker)"], [25, "worker"], [20, "dispatch"]]);
    expect(only.properties!.trace!.missing_from_static_witness).toEqual({
      text: "the call at missed_call.py:20 from dispatch() into helper() is not in the static call graph",
      at: "missed_call.py:20",
    });
    expect(j.stderr).toContain("exited with status 0");
  });

  it("names the thread start and the event-loop callback the analysis does not follow", () => {
    const dir = project();
    const r = runCli(["trace", "--device", "cpu", "unknown_start.py", "--", PY, "unknown_start.py"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("1 confirmed, 2 runtime only, 0 not exercised");
    expect(r.stdout).toMatch(/unknown_start\.py:24:5 {2}warning {2}MPS006 [^\n]*\n\s+observed: 1 wait on 1 thread \(the main thread\)/);
    expect(r.stdout).toContain(
      "missing from the static witness: the analysis does not know that threading.Thread(target=worker) at unknown_start.py:31 runs worker() on a worker thread",
    );
    expect(r.stdout).toContain(
      "missing from the static witness: the wait runs in on_ready(), a plain function the event loop calls (a callback, or a framework's sync handler run on the loop)",
    );
    // no MPS001 for the main thread's waits (the coroutine's and the callback's)
    expect(r.stdout.match(/MPS001/g)).toHaveLength(1);
  });

  it("passes the command's exit status through; SARIF carries the join; -o is the only file written", () => {
    const dir = project();
    const before = listing(dir);
    const r = runCli(["trace", "--device", "cpu", "-f", "sarif", "-o", "out.sarif", ".", "--", PY, "exit_code.py"], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe("");
    expect(listing(dir)).toEqual([...before, "out.sarif"].sort());
    const log = JSON.parse(readFileSync(join(dir, "out.sarif"), "utf8")) as {
      runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[]; properties?: { trace?: { status: string; waits?: number } } }[]; properties: { trace: { exit_code: number; processes: number } } }[];
    };
    const run = log.runs[0]!;
    expect(run.properties.trace).toMatchObject({ exit_code: 3, processes: 1 });
    const at = (uri: string, line: number) =>
      run.results.find((x) => x.locations[0]!.physicalLocation.artifactLocation.uri === uri && x.locations[0]!.physicalLocation.region.startLine === line)!;
    expect(at("exit_code.py", 9).properties!.trace).toMatchObject({ status: "confirmed", waits: 1 });
    expect(at("threads_sync.py", 13).properties!.trace!.status).toBe("not-exercised");
  });

  it.skipIf(!hasPytest)("traces a pytest session: the tests that ran each wait, the suite's exit status", () => {
    const dir = project();
    const r = runCli(["trace", "--device", "cpu", "-f", "json", "-o", "out.json", "suite", "--", PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "suite"], {
      cwd: dir,
      env: { TRACE_FIXTURE_FAIL: "1" },
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain("1 failed, 3 passed");
    const items = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as Item[];
    const f = items.find((x) => x.location.row === 13)!;
    expect(f.properties!.trace).toMatchObject({ status: "confirmed", waits: 5 });
    // a pool of 2 may start only one thread when its tasks are short; asyncio.to_thread adds one
    expect(f.properties!.trace!.threads as number).toBeGreaterThanOrEqual(2);
    expect(f.properties!.trace!.threads as number).toBeLessThanOrEqual(3);
    expect((f.properties!.trace!.tests as string[]).map((t) => t.split("::")[1]).sort()).toEqual(["test_pool", "test_to_thread"]);
    expect((f.properties!.trace!.started_by as string[]).sort()).toEqual(["ThreadPoolExecutor.map(infer)", "asyncio.to_thread(infer)"]);
  });

  it.skipIf(!hasPytest)("joins the record of the pytest plugin (--from)", () => {
    const dir = project();
    const plugin = runCli(["trace", "--plugin-path"]).stdout.trim();
    const p = spawnSync(PY, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "mps_lint_trace", "--mps-lint-trace=rec.json", "--mps-lint-trace-device=cpu", "suite"], {
      cwd: dir,
      env: { ...process.env, PYTHONPATH: plugin },
      encoding: "utf8",
    });
    expect(p.status, p.stdout + p.stderr).toBe(0);
    const r = runCli(["trace", "--from", "rec.json", "suite"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("mps-lint trace: recorded run; 1 Python process traced");
    expect(r.stdout).toMatch(/suite\/test_serving\.py:13:5 {2}error {2}MPS001[^\n]*\n\s+observed: 5 waits on [23] threads/);
    expect(r.stdout).toContain("1 confirmed, 0 runtime only, 0 not exercised");
  });

  it("joins a record made elsewhere without Node (python -m mps_lint_trace.record), its paths re-rooted here", () => {
    const there = project();
    const here = project();
    const rec = join(mkdtempSync(join(tmpdir(), "mps-lint-trace-rec-")), "run.json");
    const plugin = runCli(["trace", "--plugin-path"]).stdout.trim();
    const p = spawnSync(PY, ["-m", "mps_lint_trace.record", "--device", "cpu", "-o", rec, "--", PY, "exit_code.py"], {
      cwd: there,
      env: { ...process.env, PYTHONPATH: plugin },
      encoding: "utf8",
    });
    expect(p.status, p.stderr).toBe(3);
    expect(p.stderr).toContain("1 process record(s)");
    rmSync(there, { recursive: true, force: true });
    const r = runCli(["trace", "--from", rec, "exit_code.py"], { cwd: here });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}exit_code\.py:9:5 {2}error {2}MPS001[^\n]*\n\s+observed: 1 wait on 1 thread/m);
    expect(r.stdout).toContain("1 confirmed, 0 runtime only, 0 not exercised");
  });

  it("merges what several processes saw: the same wait in two child processes is one observation", () => {
    const dir = project();
    const code = "import subprocess, sys; [subprocess.check_call([sys.executable, 'threads_sync.py']) for _ in range(2)]";
    const r = runCli(["trace", "--device", "cpu", "-f", "json", "-o", "out.json", "threads_sync.py", "--", PY, "-c", code], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("3 Python processes traced");
    const items = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as Item[];
    const f = items.find((x) => x.location.row === 13)!;
    expect(f.properties!.trace).toMatchObject({ status: "confirmed", waits: 30, threads: 6 });
    const observations = f.properties!.trace!.observations as { count: number; processes?: number }[];
    expect(observations.map((o) => [o.count, o.processes])).toEqual([[30, 2]]);
  });

  it("never applies fixes, even where the configuration asks for them", () => {
    const dir = project();
    writeFileSync(join(dir, "pyproject.toml"), "[tool.mps-lint]\nfix = true\nunsafe-fixes = true\n");
    const before = readFileSync(join(dir, "exit_code.py"), "utf8");
    // the same configuration makes the lint itself rewrite the file (a fix is available there)
    const lint = runCli(["--no-cache", "exit_code.py"], { cwd: dir });
    const fixedByLint = readFileSync(join(dir, "exit_code.py"), "utf8");
    expect(lint.code).not.toBe(2);
    expect(fixedByLint).not.toBe(before);
    writeFileSync(join(dir, "exit_code.py"), before);
    const r = runCli(["trace", "--device", "cpu", "exit_code.py", "--", PY, "exit_code.py"], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(readFileSync(join(dir, "exit_code.py"), "utf8")).toBe(before);
    expect(r.stdout).toContain("1 confirmed");
  });

  it("says what is wrong with the command line, and runs nothing", () => {
    const dir = project();
    const none = runCli(["trace", "--device", "cpu"], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no command to trace");
    const bad = runCli(["trace", "--device", "tpu", "--", PY, "-c", "pass"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--device expects one of auto, cpu, cuda, mps, xpu, got "tpu"');
    const fmt = runCli(["trace", "-f", "junit", "--", PY, "-c", "pass"], { cwd: dir });
    expect(fmt.code).toBe(2);
    const missing = runCli(["trace", ".", "--", "no-such-command-xyz"], { cwd: dir });
    expect(missing.code).toBe(127);
    expect(missing.stdout).toContain("warning: no-such-command-xyz: command not found");
    const from = runCli(["trace", "--from", "nope.json"], { cwd: dir });
    expect(from.code).toBe(2);
    expect(from.stderr).toContain("--from nope.json: no such file");
    expect(runCli(["--help"]).stdout).toMatch(/mps-lint trace +run a command/);
  });
});
