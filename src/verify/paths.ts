import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The directory holding the `mps_lint_verify` Python package (put on PYTHONPATH). Found by
 * walking up from this module, so it works from src/ (tests) and dist/src/ (installed). */
export function nativeVerifyDir(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const cand = join(dir, "native-verify");
    if (existsSync(join(cand, "mps_lint_verify", "__init__.py"))) return (cached = cand);
    const up = dirname(dir);
    if (up === dir) throw new Error("mps-lint: cannot find native-verify/mps_lint_verify next to the installed package");
    dir = up;
  }
}

export function pythonEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const dir = nativeVerifyDir();
  const env: NodeJS.ProcessEnv = { ...base, PYTHONPATH: base.PYTHONPATH ? `${dir}:${base.PYTHONPATH}` : dir };
  env.PYTHONUNBUFFERED = "1";
  return env;
}
