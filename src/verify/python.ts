import { spawnSync } from "node:child_process";
import { join } from "node:path";

export interface PythonCandidate {
  /** where the candidate came from: "--python", "config", "MPS_LINT_PYTHON", "VIRTUAL_ENV", "PATH" */
  source: string;
  python: string;
  /** why it was rejected; absent for the one chosen */
  reason?: string;
}

export interface FoundPython {
  python: string;
  /** torch.__version__ */
  torch: string;
  source: string;
  /** every candidate looked at, in order (rejected ones carry a reason) */
  tried: PythonCandidate[];
}

export class VerifyPythonError extends Error {
  constructor(readonly tried: PythonCandidate[]) {
    super(
      "mps-lint --verify needs a Python interpreter that can import torch; tried:\n" +
        tried.map((t) => `  ${t.source}: ${t.python} -> ${t.reason}`).join("\n") +
        "\nPass --python /path/to/python (or set MPS_LINT_PYTHON, or python = '...' under [tool.mps-lint.verify] in pyproject.toml).",
    );
    this.name = "VerifyPythonError";
  }
}

const PROBE = "import sys, torch; sys.stdout.write(str(torch.__version__))";

/** The probe's time limit: 60 s, or MPS_LINT_PROBE_TIMEOUT seconds. */
export function probeTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.MPS_LINT_PROBE_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? Math.round(s * 1000) : 60_000;
}

// The probe runs in its own process group, and on timeout the whole group is killed: a `python`
// that is a wrapper script (pyenv shims, conda run, a shell script) leaves no child behind
// (spawnSync's timeout kills only the process it started). spawnSync cannot kill a group, so a
// small Node program does the waiting: it starts the interpreter detached (a new group), and
// reports what happened as one JSON line.
const GROUP_RUNNER = `
const { spawn } = require("node:child_process");
const [python, probe, ms] = process.argv.slice(1);
const out = [], err = [];
let timedOut = false, error = null;
const child = spawn(python, ["-c", probe], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
child.stdout.on("data", (d) => out.push(d));
child.stderr.on("data", (d) => err.push(d));
const kill = () => { try { process.kill(-child.pid, "SIGKILL"); } catch {} };
const timer = setTimeout(() => { timedOut = true; kill(); }, Number(ms));
child.on("error", (e) => { error = e.code || e.message; });
child.on("close", (status, signal) => {
  clearTimeout(timer);
  // Whatever the interpreter left running in its group goes too.
  kill();
  process.stdout.write(JSON.stringify({ status, signal, timedOut, error, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
});
`;

interface ProbeRun {
  status: number | null;
  signal: string | null;
  timedOut: boolean;
  error: string | null;
  stdout: string;
  stderr: string;
}

function runProbe(python: string, env: NodeJS.ProcessEnv, timeoutMs: number): ProbeRun {
  if (process.platform === "win32") {
    const r = spawnSync(python, ["-c", PROBE], { env, encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] });
    const code = (r.error as NodeJS.ErrnoException | undefined)?.code ?? null;
    return { status: r.status, signal: r.signal, timedOut: code === "ETIMEDOUT", error: code === "ETIMEDOUT" ? null : code ?? r.error?.message ?? null, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }
  const r = spawnSync(process.execPath, ["-e", GROUP_RUNNER, python, PROBE, String(timeoutMs)], {
    env,
    encoding: "utf8",
    // A backstop only: the runner kills the group at timeoutMs and answers at once.
    timeout: timeoutMs + 30_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    return JSON.parse(r.stdout) as ProbeRun;
  } catch {
    return { status: null, signal: null, timedOut: false, error: r.error?.message ?? `the probe failed (${(r.stderr || "").trim().split("\n").pop() || r.status})`, stdout: "", stderr: "" };
  }
}

/** Runs `python -c "import torch"`; returns torch's version or the reason it failed. */
export function probePython(python: string, env: NodeJS.ProcessEnv, timeoutMs = probeTimeoutMs(env)): { torch?: string; reason?: string } {
  const r = runProbe(python, env, timeoutMs);
  if (r.timedOut) return { reason: `did not answer within ${timeoutMs / 1000} s` };
  if (r.error) {
    if (r.error === "ENOENT") return { reason: "not found" };
    return { reason: r.error };
  }
  if (r.status !== 0) {
    const lines = (r.stderr || "").trim().split("\n");
    const last = lines[lines.length - 1] || `exit status ${r.status ?? r.signal}`;
    return { reason: `cannot import torch (${last})` };
  }
  return { torch: r.stdout.trim() };
}

/**
 * Finds the Python to run --verify and bench with. Order: `--python`, config
 * (`[tool.mps-lint.verify] python`), `MPS_LINT_PYTHON`, `$VIRTUAL_ENV/bin/python`, `python3` on PATH.
 * The first one that imports torch wins. Throws VerifyPythonError listing every attempt.
 */
export function findPython(opts: { python?: string; configPython?: string; env: NodeJS.ProcessEnv }): FoundPython {
  const cands: PythonCandidate[] = [];
  if (opts.python) cands.push({ source: "--python", python: opts.python });
  if (opts.configPython) cands.push({ source: "config", python: opts.configPython });
  if (opts.env.MPS_LINT_PYTHON) cands.push({ source: "MPS_LINT_PYTHON", python: opts.env.MPS_LINT_PYTHON });
  if (opts.env.VIRTUAL_ENV) {
    const bin = process.platform === "win32" ? join(opts.env.VIRTUAL_ENV, "Scripts", "python.exe") : join(opts.env.VIRTUAL_ENV, "bin", "python");
    cands.push({ source: "VIRTUAL_ENV", python: bin });
  }
  cands.push({ source: "PATH", python: process.platform === "win32" ? "python" : "python3" });
  const tried: PythonCandidate[] = [];
  const seen = new Set<string>();
  for (const c of cands) {
    if (seen.has(c.python)) {
      tried.push({ ...c, reason: "already tried" });
      continue;
    }
    seen.add(c.python);
    const p = probePython(c.python, opts.env);
    if (p.torch !== undefined) {
      tried.push({ ...c });
      return { python: c.python, torch: p.torch, source: c.source, tried };
    }
    tried.push({ ...c, reason: p.reason });
  }
  throw new VerifyPythonError(tried);
}
