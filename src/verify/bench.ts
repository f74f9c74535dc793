import { spawn } from "node:child_process";

import { pythonEnv } from "./paths.js";

/**
 * `mps-lint bench [args..]`: runs native-verify's bench (python -m mps_lint_verify.bench) with
 * the user's Python, output straight to the terminal. Resolves with its exit code.
 * Args are passed through: --op matmul|linear --size --batch --dtype --threads 1,2,4,8 --min-time --repeats
 * --sync-mode device|event|none --device --process-pool/--no-process-pool --json F --svg F.
 */
export function runBench(
  args: string[],
  python: string,
  opts: { env?: NodeJS.ProcessEnv; stdio?: "inherit" | "pipe"; cwd?: string } = {},
): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, ["-m", "mps_lint_verify.bench", ...args], {
      env: pythonEnv(opts.env ?? process.env),
      stdio: opts.stdio ?? "inherit",
      cwd: opts.cwd,
    });
    child.on("error", reject);
    child.on("close", (code, sig) => resolvePromise(code ?? (sig ? 128 + 2 : 1)));
  });
}
