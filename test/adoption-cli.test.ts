// Ruff's command-line habits through the built CLI: `check`, --output-format, the full format's
// code frame with the witness below it, grouped, rdjson, azure, and counts by severity.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { BAD, WARN, project } from "./project.js";

describe("Ruff's surface", () => {
  const dir = project({ "app/serve.py": BAD, "app/pool.py": WARN });

  it("check PATH is the bare form; --output-format is -f", () => {
    const bare = runCli(["app", "-f", "json", "--no-cache"], { cwd: dir });
    const check = runCli(["check", "app", "--output-format", "json", "--no-cache"], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toBe(bare.stdout);
    expect(JSON.parse(check.stdout).map((f: { code: string }) => f.code).sort()).toEqual(["MPS001", "MPS002"]);
  });

  it("full: the code frame, the span underlined, the witness path and the fix below", () => {
    const r = runCli(["check", "app/serve.py", "--output-format", "full"], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^app\/serve\.py:5:5: MPS001 /);
    expect(lines).toContain("5 |     torch.mps.synchronize()");
    expect(lines).toContain("  |     ^^^^^^^^^^^^^^^^^^^^^^^ MPS001");
    expect(lines).toContain("  = witness: Thread(target=worker) (app/serve.py:12:1)");
    expect(lines.some((l) => /^ {13}-> finish \(app\/serve\.py:9:5\)$/.test(l))).toBe(true);
    expect(r.stdout).toMatch(/= unsafe fix: /);
    expect(r.stdout).toMatch(/\nFound 1 error\.\n/);
  });

  it("counts errors and warnings apart (concise, grouped)", () => {
    const concise = runCli(["app", "-f", "concise"], { cwd: dir });
    // Then Ruff's fixable line: MPS001's fix is unsafe, so hidden.
    expect(concise.stdout).toMatch(/\nFound 2 problems \(1 error, 1 warning\)\.\nNo fixes available \(1 hidden fix can be enabled with the `--unsafe-fixes` option\)\.\n$/);
    const grouped = runCli(["app", "-f", "grouped"], { cwd: dir });
    expect(grouped.stdout).toMatch(/^app\/pool\.py:\n {2}\d+:\d+ MPS002 /);
    expect(grouped.stdout).toContain("Found 2 problems (1 error, 1 warning).");
  });

  it("rdjson is reviewdog's format with the witness as related locations; azure is Azure's logissue", () => {
    const rd = JSON.parse(runCli(["app/serve.py", "-f", "rdjson"], { cwd: dir }).stdout);
    expect(rd.source.name).toBe("mps-lint");
    const d = rd.diagnostics[0];
    expect(d).toMatchObject({ severity: "ERROR", code: { value: "MPS001" }, location: { path: "app/serve.py", range: { start: { line: 5, column: 5 } } } });
    expect(d.related_locations[0].location.path).toBe("app/serve.py");
    expect(d.suggestions.length).toBeGreaterThan(0);
    const az = runCli(["app/serve.py", "-f", "azure"], { cwd: dir }).stdout;
    expect(az).toMatch(/^##vso\[task\.logissue type=error;sourcepath=app\/serve\.py;linenumber=5;columnnumber=5;code=MPS001;\]`torch\.mps\.synchronize\(\)`/);
  });

  // `script` (util-linux) gives the CLI a terminal.
  const hasScript = spawnSync("script", ["--version"]).status === 0;
  it("the default format is stylish in a pipe", () => {
    expect(runCli(["app/serve.py"], { cwd: dir }).stdout).toMatch(/^app\/serve\.py\n {2}5:5 {2}error/);
  });
  it.skipIf(!hasScript)("the default format is full on a terminal", () => {
    const cli = path.join(import.meta.dirname, "..", "dist", "bundle", "bin.js");
    const tty = spawnSync("script", ["-qec", `${process.execPath} ${cli} app/serve.py --no-color`, "/dev/null"], { cwd: dir, encoding: "utf8" });
    expect(tty.stdout).toMatch(/5 \|     torch\.mps\.synchronize\(\)/);
  });

  it("--watch lints again when a file changes, and stops on SIGTERM", async () => {
    const w = project({ "ok.py": "x = 1\n" });
    const cli = path.join(import.meta.dirname, "..", "dist", "bundle", "bin.js");
    const proc = spawn(process.execPath, [cli, "--watch", "-f", "concise", "--no-cache", "."], { cwd: w });
    let out = "";
    const waiting: (() => void)[] = [];
    proc.stdout.on("data", (d) => {
      out += d;
      for (const w of [...waiting]) w();
    });
    const seen = (re: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!re.test(out)) return;
          waiting.splice(waiting.indexOf(check), 1);
          resolve();
        };
        waiting.push(check);
        check();
      });
    await seen(/All checks passed!\nWatching for file changes\.\n$/);
    writeFileSync(path.join(w, "serve.py"), BAD);
    await seen(/serve\.py:5:5: MPS001 [^]*Watching for file changes\.\n$/);
    const code = new Promise((resolve) => proc.on("exit", resolve));
    proc.kill("SIGTERM");
    expect(await code).toBe(0);
  }, 30_000);
});
