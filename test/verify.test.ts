// --verify: runs REAL Python with REAL torch (MPS_LINT_PYTHON, default /usr/bin/python3 with
// Debian's python3-torch). No mocks. Small iteration counts keep each case to a few seconds.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { describe, expect, it } from "vitest";

import type { Diagnostic } from "../src/types.js";
import {
  findPython,
  formatVerifySummary,
  nativeVerifyDir,
  runVerify,
  VerifyPythonError,
  withVerifyMeasurements,
  type VerifyMeasurement,
  type VerifyReport,
} from "../src/verify/index.js";

const PY = process.env.MPS_LINT_PYTHON ?? "/usr/bin/python3";
const FX = resolve(import.meta.dirname, "../fixtures/verify");
const hasTorch = spawnSync(PY, ["-c", "import torch"]).status === 0;
const d = describe.skipIf(!hasTorch);

function diag(file: string, line1: number, code = "MPS001"): Diagnostic {
  return {
    code,
    name: code,
    severity: "error",
    message: "test finding",
    file,
    range: { start: { row: line1 - 1, column: 0 }, end: { row: line1 - 1, column: 10 } },
    path: [],
    fix: null,
    url: "",
  };
}
type Shown = VerifyMeasurement & { text: string };
/** What a reporter shows: the measurements with their rendered line. The inputs stay as they were. */
function shown(rep: VerifyReport, diags: Diagnostic[]): Shown[] {
  const out = withVerifyMeasurements(diags, rep).map((x) => x.properties!.verify as Shown);
  for (const x of diags) expect(x.properties).toBeUndefined();
  return out;
}
const fast = { python: PY, timeoutS: 30, verbose: false, warmup: 0, repeats: 1, minTimeS: 0, handleSigint: false } as const;

function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(st); // a zombie is dead
  } catch {
    return false;
  }
}
async function gone(pid: number, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

describe("findPython", () => {
  it.skipIf(!hasTorch)("takes the first candidate that imports torch, in the documented order", () => {
    const r = findPython({ python: "/nonexistent/python", env: { MPS_LINT_PYTHON: PY, PATH: process.env.PATH } });
    expect(r.python).toBe(PY);
    expect(r.source).toBe("MPS_LINT_PYTHON");
    expect(r.torch).toMatch(/^\d+\.\d+/);
    expect(r.tried.map((t) => t.source)).toEqual(["--python", "MPS_LINT_PYTHON"]);
    expect(r.tried[0]!.reason).toBe("not found");
  });

  it.skipIf(!hasTorch)("uses VIRTUAL_ENV/bin/python before PATH", () => {
    const venv = mkdtempSync(join(tmpdir(), "venv-"));
    mkdirSync(join(venv, "bin"));
    writeFileSync(join(venv, "bin", "python"), `#!/bin/sh\nexec ${PY} "$@"\n`);
    chmodSync(join(venv, "bin", "python"), 0o755);
    const r = findPython({ env: { VIRTUAL_ENV: venv, PATH: "/nonexistent" } });
    expect(r.source).toBe("VIRTUAL_ENV");
    expect(r.python).toBe(join(venv, "bin", "python"));
  });

  it("a Python without torch gives a clear error listing what was tried", () => {
    // python3 -S skips site-packages, so Debian's dist-packages torch is not importable.
    const dir = mkdtempSync(join(tmpdir(), "notorch-"));
    const shim = join(dir, "python3");
    writeFileSync(shim, `#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n`);
    chmodSync(shim, 0o755);
    let err: unknown;
    try {
      findPython({ python: shim, configPython: "/nope/python", env: { PATH: dir } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifyPythonError);
    const e = err as VerifyPythonError;
    expect(e.tried.map((t) => t.source)).toEqual(["--python", "config", "PATH"]);
    expect(e.message).toContain(`--python: ${shim} -> cannot import torch (ModuleNotFoundError: No module named 'torch')`);
    expect(e.message).toContain("config: /nope/python -> not found");
    expect(e.message).toContain("PATH: python3");
    expect(e.message).toContain("Pass --python");
  });
});

d("runVerify on CPU (real torch)", () => {
  it("counts device syncs per call site, attributes threads, reports not-reached lines, and runs the replacement", async () => {
    const f = join(FX, "device_sync_threads.py");
    const diags = [diag(f, 12), diag(f, 20), diag(f, 24)];
    const progress: string[] = [];
    const rep = await runVerify(diags, { ...fast, onProgress: (p) => progress.push(`${p.event}:${p.phase ?? ""}`) });
    expect(rep.targets).toHaveLength(1);
    const s = rep.targets[0]!;
    expect(s.status).toBe("ok");
    expect(s.environment!.device).toBe("cpu");
    expect(s.environment!.torch).toMatch(/^\d+\.\d+/);
    expect(s.threadsStarted).toBe(4);
    const [w, m, never] = shown(rep, diags);
    // 4 worker threads x 25 iterations at line 12
    expect(w!.reached).toBe(true);
    expect(w!.threads).toBe(4);
    expect(w!.deviceSyncs).toBe(100);
    expect(w!.workerDeviceSyncs).toBe(100);
    expect(w!.text).toMatch(/^measured on cpu \(.*torch .*mechanics only: no accelerator queue\): 4 threads, 100 device syncs blocked /);
    // the main-thread sync at line 20
    expect(m!.deviceSyncs).toBe(1);
    expect(m!.workerDeviceSyncs).toBe(0);
    expect(m!.threads).toBe(1);
    // line 24 is in a function nobody calls
    expect(never!.reached).toBe(false);
    expect(never!.text).toContain("not reached");
    expect(s.notReached).toBe(1);
    // the replacement run: worker syncs replaced by per-thread event sync, main-thread sync kept
    const r = s.result!;
    expect(r.runs!.as_written.replaced_syncs).toBe(0);
    expect(r.runs!.event_sync.status).toBe("ok");
    expect(r.runs!.event_sync.device_syncs).toBe(101);
    expect(r.runs!.event_sync.replaced_syncs).toBe(100);
    expect(s.eventSyncS).toBeGreaterThan(0);
    expect(s.asWrittenS).toBeGreaterThan(0);
    expect(s.slowdown).toBeCloseTo(s.asWrittenS! / s.eventSyncS!, 1);
    expect(w!.slowdown).toBe(s.slowdown);
    // timing runs are lean and separate from the instrumented attribution run
    const kinds = r.runs!.as_written.iterations!.map((i) => i.kind);
    expect(kinds[0]).toBe("attribution");
    expect(kinds.slice(1).every((k) => k === "timed")).toBe(true);
    expect(r.runs!.as_written.repeats).toBe(kinds.length - 1);
    // repeats, spread and regime reach the measurement and the summary line
    expect(s.comparison!.repeats).toEqual([r.runs!.as_written.repeats, r.runs!.event_sync.repeats]);
    expect(s.comparison!.low).toBeLessThanOrEqual(s.comparison!.ratio);
    expect(s.comparison!.high).toBeGreaterThanOrEqual(s.comparison!.ratio);
    expect(s.comparison!.measurable).toBe(!(s.comparison!.low <= 1 && 1 <= s.comparison!.high));
    expect(s.regime).toEqual({ kind: "host-bound", busy_fraction: null, evidence: "CPU run: every op is host work" });
    expect(w!.comparison).toEqual(s.comparison);
    expect(w!.text).toContain("quartile spread");
    // the target starts threads: the ratio is over the threaded section, the whole run's kept beside it
    expect(s.comparison!.basis).toBe("threaded section");
    const aw = r.runs!.as_written as unknown as { threads_s: number[]; wall_s: number[] };
    expect(aw.threads_s.length).toBe(aw.wall_s.length);
    aw.threads_s.forEach((t, i) => expect(t).toBeLessThanOrEqual(aw.wall_s[i]));
    expect(s.comparison!.whole_run!.ratio).toBeGreaterThan(0);
    expect(w!.text).toContain("(threaded section)");
    expect(r.retargeted!.join(" ")).toContain("'mps' -> 'cpu'");
    expect(r.retarget_applied).toEqual({ "device 'mps' -> 'cpu'": 1 });
    expect(progress).toContain("spawn:as_written");
    expect(progress).toContain("spawn:event_sync");
    const sum = formatVerifySummary(s).join("\n");
    expect(sum).toMatch(/-> [\d.]+x \(quartile spread [\d.]+-[\d.]+, \d+\+\d+ timed runs/);
    expect(sum).toContain("regime: host-bound (CPU run: every op is host work)");
    expect(sum).toContain("mechanics only");
    expect(sum).toContain("re-targeted:");
  }, 60_000);

  it("confirms a shared Event (MPS003) and not a per-thread one", async () => {
    const f = join(FX, "shared_event.py");
    const diags = [diag(f, 6, "MPS003"), diag(f, 12, "MPS003"), diag(f, 17, "MPS003")];
    const rep = await runVerify(diags, fast);
    expect(rep.targets[0]!.status).toBe("ok");
    const [created, used, perThread] = shown(rep, diags);
    expect(created!.sharedEvent).toEqual({ confirmed: true, maxThreads: 3 });
    expect(created!.text).toContain("confirmed: one Event used by 3 threads");
    expect(used!.sharedEvent!.confirmed).toBe(true);
    expect(used!.eventOps).toBe(30);
    expect(perThread!.sharedEvent).toEqual({ confirmed: false, maxThreads: 1 });
    expect(rep.targets[0]!.confirmedSharedEvents).toBe(1);
    // no device sync on a worker: nothing to replace, so no comparison run
    expect(rep.targets[0]!.comparisonSkipped).toMatch(/nothing to replace/);
  }, 60_000);

  it("reports a crashing target without throwing, keeping its output out unless verbose", async () => {
    const f = join(FX, "crash.py");
    const quiet = [diag(f, 8)];
    const rq = await runVerify(quiet, fast);
    const s = rq.targets[0]!;
    expect(s.status).toBe("crash");
    expect(s.error).toContain("RuntimeError: boom from the target");
    expect(shown(rq, quiet)[0]!.reached).toBe(true);
    expect(shown(rq, quiet)[0]!.text).toContain("target crashed");
    expect(JSON.stringify(s.result)).not.toContain("about to fail");
    const loud = [diag(f, 8)];
    const rl = await runVerify(loud, { ...fast, verbose: true });
    expect(rl.targets[0]!.result!.runs!.as_written.stdout).toContain("about to fail");
    expect(shown(rl, loud)[0]!.text).not.toContain("about to fail");
  }, 60_000);

  it("reports a target killed by a signal", async () => {
    const f = join(FX, "segfault.py");
    const rep = await runVerify([diag(f, 7)], fast);
    expect(rep.targets[0]!.status).toBe("crash");
    expect(rep.targets[0]!.error).toContain("SIGSEGV");
  }, 60_000);

  it("kills the whole process group of a hanging target at the time limit", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "hang-")), "pid");
    const f = join(FX, "hang.py");
    const t0 = Date.now();
    const diags = [diag(f, 15)];
    const rep = await runVerify(diags, { ...fast, timeoutS: 4, entry: `python ${f} ${pidFile}` });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const s = rep.targets[0]!;
    expect(s.status).toBe("timeout");
    expect(s.result!.runs!.as_written.group_killed).toBe(true);
    expect(shown(rep, diags)[0]!.text).toContain("timed out");
    expect(s.killed.map((k) => k.reason)).toContain("timeout");
    // the grandchild the target started (same process group) is gone too
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(pid).toBeGreaterThan(0);
    expect(await gone(pid)).toBe(true);
  }, 60_000);

  it("on SIGINT kills the runner and target process groups", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "sigint-")), "pid");
    const f = join(FX, "hang.py");
    const keepAlive = () => {}; // someone else handles SIGINT, so runVerify does not re-raise
    process.on("SIGINT", keepAlive);
    try {
      const started = Date.now();
      let fired = false;
      const rep = await runVerify([diag(f, 15)], {
        ...fast,
        handleSigint: true,
        timeoutS: 60,
        entry: `${f} ${pidFile}`,
        onProgress: (e) => {
          if (e.event !== "iteration" || fired) return;
          fired = true;
          const wait = () => (existsSync(pidFile) && readFileSync(pidFile, "utf8") ? process.emit("SIGINT") : setTimeout(wait, 50));
          setTimeout(wait, 50);
        },
      });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(rep.aborted).toBe(true);
      expect(rep.targets[0]!.status).toBe("aborted");
      expect(await gone(Number(readFileSync(pidFile, "utf8")))).toBe(true);
    } finally {
      process.removeListener("SIGINT", keepAlive);
    }
  }, 60_000);

  it("repeats timed runs until the minimum time, and reports min/median/max and quartiles", async () => {
    const f = join(FX, "device_sync_threads.py");
    const rep = await runVerify([diag(f, 12)], { ...fast, repeats: 3, minTimeS: 0.3 });
    const aw = rep.targets[0]!.result!.runs!.as_written;
    expect(aw.repeats).toBeGreaterThanOrEqual(3);
    expect(aw.wall_s!.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(0.3 * 0.999);
    expect(aw.min_s!).toBeLessThanOrEqual(aw.p25_s!);
    expect(aw.p25_s!).toBeLessThanOrEqual(aw.median_s!);
    expect(aw.median_s!).toBeLessThanOrEqual(aw.p75_s!);
    expect(aw.p75_s!).toBeLessThanOrEqual(aw.max_s!);
  }, 90_000);

  it("kills a child that left the target's session (setsid) at the time limit, and says so", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "setsid-")), "pid");
    const f = join(FX, "setsid_child.py");
    const diags = [diag(f, 9)];
    const rep = await runVerify(diags, { ...fast, timeoutS: 6, env: { ...process.env, SETSID_CHILD_PIDFILE: pidFile } });
    const s = rep.targets[0]!;
    expect(s.status).toBe("timeout");
    const child = Number(readFileSync(pidFile, "utf8"));
    expect(child).toBeGreaterThan(0);
    expect(await gone(child)).toBe(true);
    const k = s.killed.find((x) => x.pid === child);
    expect(k).toMatchObject({ reason: "timeout", own_session: true, phase: "as_written" });
    expect(formatVerifySummary(s).join("\n")).toContain(`killed: pid ${child} python`);
  }, 60_000);

  it("stops a target over --verify-memory and reports what was killed and why", async () => {
    const f = join(FX, "memory_hog.py");
    const diags = [diag(f, 7)];
    const rep = await runVerify(diags, { ...fast, timeoutS: 60, memoryMb: 300 });
    const s = rep.targets[0]!;
    expect(s.status).toBe("memory");
    expect(s.error).toMatch(/resident memory, over the --verify-memory limit of 0\.3 GiB; process tree killed/);
    expect(s.memoryLimitMb).toBe(300);
    expect(s.killed[0]).toMatchObject({ reason: "memory", phase: "as_written" });
    expect(shown(rep, diags)[0]!.text).toContain("target stopped:");
  }, 60_000);

  it("leaves no mps-lint-verify-* file in the temp folder, even when interrupted", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "verify-tmp-"));
    const pidFile = join(tmp, "pid");
    const env = { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
    const f = join(FX, "device_sync_threads.py");
    await runVerify([diag(f, 12)], { ...fast, env });
    const ac = new AbortController();
    let fired = false;
    const rep = await runVerify([diag(join(FX, "hang.py"), 15)], {
      ...fast,
      env,
      timeoutS: 60,
      entry: `${join(FX, "hang.py")} ${pidFile}`,
      signal: ac.signal,
      onProgress: (e) => {
        if (e.event !== "iteration" || fired) return;
        fired = true;
        const wait = () => (existsSync(pidFile) && readFileSync(pidFile, "utf8") ? ac.abort() : setTimeout(wait, 50));
        setTimeout(wait, 50);
      },
    });
    expect(rep.aborted).toBe(true);
    expect(await gone(Number(readFileSync(pidFile, "utf8")))).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(readdirSync(tmp).filter((n) => n.startsWith("mps-lint-verify-"))).toEqual([]);
  }, 90_000);

  it("runner rejects a request with another schema version", () => {
    const r = spawnSync(PY, ["-m", "mps_lint_verify"], {
      input: JSON.stringify({ schema: "mps-lint-verify/999", target: { file: "x.py" } }),
      env: { ...process.env, PYTHONPATH: nativeVerifyDir() },
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe("error");
    expect(out.error).toContain("unsupported schema");
  });

  it("instrumentation unit tests (python unittest, real torch)", () => {
    const r = spawnSync(PY, ["-m", "unittest", "discover", "-s", "tests", "-t", "."], {
      cwd: nativeVerifyDir(),
      env: { ...process.env, PYTHONPATH: nativeVerifyDir() },
      encoding: "utf8",
    });
    expect(r.stderr).toMatch(/OK/);
    expect(r.status).toBe(0);
  });
});
