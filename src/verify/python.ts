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

/** Runs `python -c "import torch"`; returns torch's version or the reason it failed. */
export function probePython(python: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): { torch?: string; reason?: string } {
  const r = spawnSync(python, ["-c", PROBE], { env, encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { reason: "not found" };
    if (code === "ETIMEDOUT") return { reason: `did not answer within ${timeoutMs / 1000} s` };
    return { reason: r.error.message };
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
