// Issue 13 (invocation context): files named one by one (pre-commit), standard input with
// --stdin-filename and editor buffers are analysed inside their project, and only their findings
// are reported. A thread starts in pkg/app.py; the sync it reaches is in pkg/helpers.py.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runLint } from "../src/main.js";
import { runCli } from "./cli.js";

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-ctx-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const APP = "import threading\nfrom pkg.helpers import step\n\nthreading.Thread(target=step).start()\n";
const HELPERS = "import torch\n\ndef step():\n    torch.mps.synchronize()\n";
const PKG = { "pkg/__init__.py": "", "pkg/app.py": APP, "pkg/helpers.py": HELPERS };

const concise = (stdout: string) => stdout.split("\n").filter((l) => / MPS\d{3} /.test(l));

describe("a named file is analysed inside its project", () => {
  for (const marker of ["pyproject.toml", ".git/HEAD", "mps-lint.toml"]) {
    it(`mps-lint pkg/helpers.py reports the sync reached from pkg/app.py (project marked by ${marker})`, () => {
      const dir = project({ ...PKG, [marker]: marker.endsWith(".toml") ? "" : "ref: refs/heads/main\n" });
      const r = runCli(["-f", "concise", "--no-cache", "pkg/helpers.py"], { cwd: dir });
      expect(r.code).toBe(1);
      expect(concise(r.stdout)).toEqual([expect.stringMatching(/^pkg\/helpers\.py:4:5: MPS001 .*app\.py:4/)]);
    });
  }

  it("standard input with --stdin-filename pkg/helpers.py reports it, using the buffer's text", () => {
    const dir = project({ ...PKG, "pyproject.toml": "" });
    const r = runCli(["-f", "concise", "--no-cache", "-", "--stdin-filename", "pkg/helpers.py"], { cwd: dir, input: "import torch\n\n\ndef step():\n    torch.mps.synchronize()\n" });
    expect(r.code).toBe(1);
    // the unsaved buffer's line (5), not the file's on disk (4)
    expect(concise(r.stdout)).toEqual([expect.stringMatching(/^pkg\/helpers\.py:5:5: MPS001 /)]);
  });

  it("the pre-commit hook's invocation (--force-exclude, the staged file) reports it", () => {
    const dir = project({ ...PKG, "pyproject.toml": "[tool.mps-lint]\nextend-exclude = [\"build\"]\n", "build/gen.py": HELPERS });
    const r = runCli(["--force-exclude", "-f", "concise", "--no-cache", "pkg/helpers.py"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(concise(r.stdout)).toHaveLength(1);
  });

  it("only the named files' findings are reported, and their problems", () => {
    const dir = project({ ...PKG, "pyproject.toml": "", "other.py": HELPERS.replace("def step", "import threading\ndef step") + "threading.Thread(target=step).start()\n", "bad.py": "x = 1\0\n" });
    const r = runCli(["-f", "concise", "--no-cache", "pkg/app.py"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("other.py");
    expect(r.stderr).not.toContain("bad.py");
  });

  it("without pyproject.toml, .git or a configuration file above it, a file outside the working folder is linted on its own", () => {
    const dir = project(PKG);
    const elsewhere = project({});
    const r = runCli(["-f", "concise", "--no-cache", path.join(dir, "pkg/helpers.py")], { cwd: elsewhere });
    expect(r.code).toBe(0);
  });

  it("without a marker, a file inside the working folder is analysed within the working folder (issue 27)", () => {
    const dir = project(PKG);
    const r = runCli(["-f", "concise", "--no-cache", "pkg/helpers.py"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(concise(r.stdout)).toEqual([expect.stringMatching(/^pkg\/helpers\.py:4:5: MPS001 .*app\.py:4/)]);
  });

  it("--fix with a named file edits only that file", () => {
    const other = "import threading\nimport torch\ndef w():\n    torch.mps.synchronize()\nthreading.Thread(target=w).start()\n";
    const dir = project({ ...PKG, "pyproject.toml": "", "pkg/other.py": other });
    const r = runCli(["--fix", "--unsafe-fixes", "-f", "concise", "--no-cache", "pkg/helpers.py"], { cwd: dir });
    expect(r.stderr).not.toContain("other.py");
    expect(readFileSync(path.join(dir, "pkg/other.py"), "utf8")).toBe(other);
    expect(readFileSync(path.join(dir, "pkg/helpers.py"), "utf8")).not.toBe(HELPERS);
  });
});

/** Findings as (file, row, code), from the JSON report of an in-process run. */
async function findings(cwd: string, paths: string[]): Promise<string[]> {
  const out = await runLint({ paths, cwd, format: "json", quiet: false, exitZero: true, color: false, cache: false });
  const rows = JSON.parse(out.stdout) as { code: string; filename: string; location: { row: number; column: number } }[];
  return rows.map((d) => `${path.relative(cwd, d.filename)}:${d.location.row}:${d.location.column}:${d.code}`).sort();
}

function pythonFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => /\.(py|ipynb)$/.test(f)).sort();
}

describe("property: a file linted alone gets the findings it gets when its project is linted", () => {
  // Fixture projects of several modules, each made a project with a pyproject.toml.
  const projects: Record<string, Record<string, string>> = {
    "thread start and sync in different modules": { ...PKG },
    "a chain of three modules": {
      "a.py": "import threading\nfrom b import run\nthreading.Thread(target=run).start()\n",
      "b.py": "from c import sync_all\ndef run():\n    sync_all()\n",
      "c.py": "import torch\ndef sync_all():\n    torch.mps.synchronize()\n",
    },
    "a method reached through an instance from another module": {
      "svc/__init__.py": "",
      "svc/model.py": "import torch\nclass Model:\n    def infer(self, x):\n        y = x.to('mps') * 2\n        torch.mps.synchronize()\n        return y\n",
      "svc/server.py": "import threading\nfrom svc.model import Model\nm = Model()\ndef handle():\n    m.infer(1)\nfor _ in range(2):\n    threading.Thread(target=handle).start()\n",
      "svc/unused.py": "import torch\ndef idle():\n    torch.mps.synchronize()\n",
    },
  };
  for (const [name, files] of Object.entries(projects)) {
    it(name, async () => {
      const dir = project({ ...files, "pyproject.toml": "" });
      const whole = await findings(dir, ["."]);
      expect(whole.length).toBeGreaterThan(0);
      for (const file of pythonFiles(dir)) {
        const alone = await findings(dir, [file]);
        expect(alone, file).toEqual(whole.filter((f) => f.startsWith(`${file}:`)));
      }
    });
  }
});
