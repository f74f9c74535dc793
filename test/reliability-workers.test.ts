// Stopping the parse workers while one is inside the native parser must not abort the process:
// the parser reads the text through a callback into JavaScript, which throws (and, from C++,
// aborts with "terminate called after throwing an instance of 'Napi::Error'") once its thread
// is being terminated. A run ends with prefetched files still at the workers, so this happened
// on real projects (exit 134, no report).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { workerScript } from "../src/facts/workers/pool.js";

const tmp = mkdtempSync(path.join(tmpdir(), "mps-lint-pool-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("parse pool", () => {
  it("waits for the batches at its workers before stopping them", () => {
    const script = workerScript();
    expect(script).not.toBeNull();
    // A file that takes the worker a while to parse (just under 2 MB of functions: larger files are
    // not prefetched, src/facts/workers/pool.ts).
    const big = path.join(tmp, "big.py");
    const body = Array.from({ length: 20_000 }, (_, k) => `def f${k}(x):\n    y = [x + ${k} for _ in range(3)]\n    return g(y, key=lambda z: z * ${k})\n`).join("\n");
    writeFileSync(big, body);
    const pool = pathToFileURL(path.join(path.dirname(script!), "pool.js")).href;
    const program = `
      import { ParsePool } from ${JSON.stringify(pool)};
      const pool = ParsePool.create(1, null, "");
      pool.prefetch([{ i: 0, file: ${JSON.stringify(big)}, size: ${body.length} }]);
      // Let the worker start and get well into the parse, then stop the pool.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 700);
      pool.close();
      console.log("closed", pool.unclaimed());
    `;
    const main = path.join(tmp, "close.mjs");
    writeFileSync(main, program);
    const r = spawnSync(process.execPath, [main], { encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(r.status).toBe(0);
    // The file was at the worker when close() began (it was waited for), not skipped.
    expect(r.stdout.trim()).toBe("closed 1");
  });
});
