import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { project } from "./project.js";

function nb(cells: unknown[], language = "python"): string {
  return JSON.stringify({ cells, metadata: { kernelspec: { name: "k", language } }, nbformat: 4, nbformat_minor: 5 }, null, 1);
}
const code = (source: string | string[]) => ({ cell_type: "code", metadata: {}, outputs: [], execution_count: null, source });
const md = (source: string) => ({ cell_type: "markdown", metadata: {}, source });

describe("Jupyter notebooks", () => {
  const cells = [
    md("# Serving"),
    code(["%matplotlib inline\n", "import threading\n", "import torch\n", "!pip install something\n", "files = !ls\n"]),
    code("%%bash\nfor i in 1 2; do echo $((i+1)); done\n"),
    code(["def worker():\n", "    y = 1\n", "    %time z = 2\n", "    torch.mps.synchronize()\n", "    return y\n"]),
    code(["%%time\n", "threading.Thread(target=worker).start()\n", "worker?\n"]),
  ];

  it("are discovered and linted; findings name the cell and the line in it", () => {
    const dir = project({ "demo.ipynb": nb(cells) });
    const r = runCli(["-f", "json", "."], { cwd: dir });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ code: "MPS001", filename: path.join(dir, "demo.ipynb"), cell: 4, location: { row: 4, column: 5 }, end_location: { row: 4 } });
    expect(out[0].message).toContain("reached from Thread(target=worker) at cell 5, line 2");
    expect(out[0].path[0]).toMatchObject({ cell: 5, location: { row: 2 } });
    const concise = runCli(["-f", "concise", "."], { cwd: dir });
    expect(concise.stdout).toMatch(/^demo\.ipynb:cell 4:4:5: MPS001 /);
    expect(runCli(["."], { cwd: dir }).stdout).toMatch(/\n {2}cell 4:4:5 {2}error /);
  });

  it("magics and shell lines are skipped without shifting lines or causing parse errors", () => {
    // Without the magics handled, the `%%bash` body and `files = !ls` would be syntax errors and
    // the indented `%time` would break the function: then the sync would not be found.
    const dir = project({ "demo.ipynb": nb(cells) });
    const r = runCli(["-f", "concise", "demo.ipynb"], { cwd: dir });
    expect(r.stdout.split("\n")[0]).toMatch(/cell 4:4:5: MPS001/);
    expect(r.stderr).toBe("");
  });

  it("suppression comments work in cells", () => {
    const quiet = cells.map((c, i) => (i === 3 ? code(["def worker():\n", "    torch.mps.synchronize()  # noqa: MPS001\n"]) : c));
    expect(runCli(["demo.ipynb"], { cwd: project({ "demo.ipynb": nb(quiet) }) }).code).toBe(0);
  });

  it("invalid JSON, missing cells, cells without source and non-Python kernels: a warning, no crash", () => {
    const dir = project({
      "broken.ipynb": "{ not json",
      "nocells.ipynb": JSON.stringify({ metadata: {} }),
      "r.ipynb": nb([code("x <- 1\n")], "R"),
      "nosource.ipynb": nb([{ cell_type: "code", metadata: {}, outputs: [] }, code("import torch\n")]),
      "empty.ipynb": nb([code([]), code("")]),
    });
    const r = runCli(["-f", "json", "."], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.stderr).toContain("warning: broken.ipynb: not a valid notebook (invalid JSON");
    expect(r.stderr).toContain('warning: nocells.ipynb: not a valid notebook (no "cells" list); skipped');
    expect(r.stderr).toContain('warning: r.ipynb: notebook kernel language is "r", not Python; skipped');
    expect(r.stderr).toContain('warning: nosource.ipynb: cell 1: code cell without a "source" string or list; skipped');
    expect(r.stderr).not.toContain("empty.ipynb");
    const stylish = runCli(["."], { cwd: dir });
    expect(stylish.stderr).toContain("warning: broken.ipynb: not a valid notebook");
  });

  it("a notebook can be read from standard input with --stdin-filename", () => {
    const r = runCli(["-f", "concise", "-", "--stdin-filename", "x.ipynb"], { cwd: project({}), input: nb(cells) });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^x\.ipynb:cell 4:4:5: MPS001/);
  });
});
