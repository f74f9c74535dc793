// Issue 19: the cost of a file grew with the square of its thread-spawn findings (1,000 spawning
// notebook cells 12.7 s, 2,000 51.9 s). Each finding's fix walked every top-level statement of its
// module to find the imports. This counts that work (no clock): it must stay linear in the
// number of statements, not grow as findings x statements.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";

const SPAWNS = 2000;

function spawner(i: number): string {
  return `def w${i}():\n    torch.mps.synchronize()\n\nthreading.Thread(target=w${i}).start()\n`;
}

function counts(stderr: string): Record<string, number> {
  const line = stderr.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  return (JSON.parse(line!) as { counts: Record<string, number> }).counts;
}

describe("work grows linearly with thread-spawn findings", () => {
  it(`a module with ${SPAWNS} spawns: every one found, each statement walked a bounded number of times`, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-scale-"));
    const body = Array.from({ length: SPAWNS }, (_, i) => spawner(i)).join("\n");
    writeFileSync(path.join(dir, "big.py"), `import threading\nimport torch\n\n${body}`);
    // concise: the JSON report of 2,000 findings is over spawnSync's 1 MB output buffer
    const r = runCli(["--no-cache", "--timing", "-f", "concise", "big.py"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n").filter((l) => /^big\.py:\d+:5: MPS001 /.test(l)).length).toBe(SPAWNS);
    const statements = 2 + 2 * SPAWNS;
    // Quadratic would be SPAWNS x statements (8 million here); linear is a few walks.
    expect(counts(r.stderr)["fix-layout-statements"]).toBeLessThanOrEqual(2 * statements);
  });

  it(`a notebook with ${SPAWNS / 2} spawning cells: every one found, with its cell, linear work`, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-scale-"));
    const cells = [{ cell_type: "code", metadata: {}, outputs: [], source: "import threading\nimport torch\n" }];
    for (let i = 0; i < SPAWNS / 2; i++) cells.push({ cell_type: "code", metadata: {}, outputs: [], source: spawner(i) });
    writeFileSync(path.join(dir, "nb.ipynb"), JSON.stringify({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 }));
    const r = runCli(["--no-cache", "--timing", "-f", "concise", "nb.ipynb"], { cwd: dir });
    expect(r.code).toBe(1);
    const found = r.stdout.split("\n").filter((l) => / MPS001 /.test(l));
    expect(found.length).toBe(SPAWNS / 2);
    expect(found[SPAWNS / 2 - 1]).toMatch(new RegExp(`^nb\\.ipynb:cell ${SPAWNS / 2 + 1}:2:5: MPS001`));
    expect(counts(r.stderr)["fix-layout-statements"]).toBeLessThanOrEqual(2 * (2 + 2 * (SPAWNS / 2)));
  });
});
