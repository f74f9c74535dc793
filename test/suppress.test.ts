import { readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { BAD, project } from "./project.js";

const rows = (stdout: string) => (JSON.parse(stdout) as { code: string; location: { row: number } }[]).map((d) => `${d.location.row}:${d.code}`);

/** BAD with the sync line (5) replaced. */
const withSync = (line: string) => BAD.replace("    torch.mps.synchronize()", line);

describe("suppression comments", () => {
  const cases: [string, string, number][] = [
    ["bare # noqa", "    torch.mps.synchronize()  # noqa", 0],
    ["# noqa: code", "    torch.mps.synchronize()  # noqa: MPS001", 0],
    ["# noqa:code without space, lower case noqa", "    torch.mps.synchronize()  # NOQA:MPS001", 0],
    ["# noqa: list of codes", "    torch.mps.synchronize()  # noqa: E501, MPS001", 0],
    ["# noqa after another comment", "    torch.mps.synchronize()  # type: ignore  # noqa: MPS001", 0],
    ["# noqa for another code", "    torch.mps.synchronize()  # noqa: MPS002", 1],
    ["# noqa inside a string is no comment", '    torch.mps.synchronize(); s = "# noqa"', 1],
    ["# mps-lint: ignore[code] on the line", "    torch.mps.synchronize()  # mps-lint: ignore[MPS001]", 0],
    ["# mps-lint: ignore[code] on the line above", "    # mps-lint: ignore[MPS001]\n    torch.mps.synchronize()", 0],
    ["# mps-lint: ignore[other] on the line above", "    # mps-lint: ignore[MPS003]\n    torch.mps.synchronize()", 1],
    ["a trailing ignore covers only its own line", "    x = 1  # mps-lint: ignore[MPS001]\n    torch.mps.synchronize()", 1],
  ];
  for (const [name, line, n] of cases) {
    it(name, () => {
      const dir = project({ "serve.py": withSync(line) });
      const r = runCli(["-f", "json", "serve.py"], { cwd: dir });
      expect(JSON.parse(r.stdout)).toHaveLength(n);
      expect(r.code).toBe(n > 0 ? 1 : 0);
    });
  }

  it("file-level # mps-lint: noqa and # mps-lint: file-ignore[...]", () => {
    expect(runCli(["serve.py"], { cwd: project({ "serve.py": "# mps-lint: noqa\n" + BAD }) }).code).toBe(0);
    expect(runCli(["serve.py"], { cwd: project({ "serve.py": "# mps-lint: file-ignore[MPS001]\n" + BAD }) }).code).toBe(0);
    expect(runCli(["serve.py"], { cwd: project({ "serve.py": "# mps-lint: file-ignore[MPS002, MPS003]\n" + BAD }) }).code).toBe(1);
  });

  it("a finding spanning lines is suppressed at its first line (Ruff's noqa_row)", () => {
    const src = withSync("    torch.mps.synchronize(  # noqa: MPS001\n    )");
    const r = runCli(["-f", "json", "serve.py"], { cwd: project({ "serve.py": src }) });
    expect(JSON.parse(r.stdout)).toEqual([]);
    const late = withSync("    torch.mps.synchronize(\n    )  # noqa: MPS001");
    const out = JSON.parse(runCli(["-f", "json", "serve.py"], { cwd: project({ "serve.py": late }) }).stdout);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ location: { row: 5 }, end_location: { row: 6 }, noqa_row: 5 });
  });

  it("an unknown mps-lint directive is a warning, not a crash", () => {
    const r = runCli(["serve.py"], { cwd: project({ "serve.py": "# mps-lint: ignor[MPS001]\n" + BAD }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('line 1: unknown directive "mps-lint: ignor[MPS001]"');
  });
});

describe("MPS100 unused-suppression (opt-in)", () => {
  const src = [
    "import torch",
    "",
    "def main(model, x):",
    "    y = model(x)",
    "    torch.mps.synchronize()  # noqa: MPS001",
    "    z = 1  # noqa: E501",
    "    w = 2  # noqa",
    "    return y",
    "",
  ].join("\n");

  it("is off by default and reports only our unused codes when selected", () => {
    const dir = project({ "main.py": src });
    expect(runCli(["main.py"], { cwd: dir }).code).toBe(0);
    const r = runCli(["-f", "json", "--extend-select", "MPS100", "main.py"], { cwd: dir });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(rows(r.stdout)).toEqual(["5:MPS100"]);
    expect(out[0].message).toContain("`# noqa: MPS001` suppresses nothing for MPS001");
    expect(out[0].location.column).toBe(30);
  });

  it("a used suppression is not reported; codes of rules that did not run are not judged", () => {
    const dir = project({ "serve.py": withSync("    torch.mps.synchronize()  # noqa: MPS001, MPS003") });
    expect(rows(runCli(["-f", "json", "--extend-select", "MPS100", "serve.py"], { cwd: dir }).stdout)).toEqual(["5:MPS100"]);
    expect(rows(runCli(["-f", "json", "--select", "MPS001,MPS100", "serve.py"], { cwd: dir }).stdout)).toEqual([]);
  });

  it("can itself be silenced with # noqa: MPS100", () => {
    const dir = project({ "main.py": src.replace("# noqa: MPS001", "# noqa: MPS001, MPS100") });
    expect(runCli(["--extend-select", "MPS100", "main.py"], { cwd: dir }).code).toBe(0);
  });
});

describe("--add-noqa", () => {
  it("adds # noqa: CODE to each finding's line, merging, keeping comments and CRLF endings and mode", () => {
    const src = [
      "import threading",
      "import torch",
      "",
      "def finish():",
      "    torch.mps.synchronize()  # type: ignore",
      "    torch.cuda.synchronize()  # noqa: E501",
      "    torch.mps.synchronize(); torch.cuda.synchronize()",
      "    torch.mps.synchronize()  # noqa",
      "",
      "def worker():",
      "    finish()",
      "",
      "threading.Thread(target=worker).start()",
      "",
    ].join("\r\n");
    const dir = project({ "serve.py": src });
    const file = path.join(dir, "serve.py");
    chmodSync(file, 0o755);
    expect(runCli(["-f", "json", "serve.py"], { cwd: dir }).code).toBe(1);
    const r = runCli(["--add-noqa", "serve.py"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Added 3 noqa directives in 1 file.");
    const after = readFileSync(file, "utf8");
    expect(after.split("\r\n")).toEqual([
      "import threading",
      "import torch",
      "",
      "def finish():",
      "    torch.mps.synchronize()  # type: ignore  # noqa: MPS001",
      "    torch.cuda.synchronize()  # noqa: E501, MPS001",
      "    torch.mps.synchronize(); torch.cuda.synchronize()  # noqa: MPS001",
      "    torch.mps.synchronize()  # noqa",
      "",
      "def worker():",
      "    finish()",
      "",
      "threading.Thread(target=worker).start()",
      "",
    ]);
    expect(after.replace(/\r\n/g, "")).not.toContain("\n");
    expect(statSync(file).mode & 0o777).toBe(0o755);
    // Now clean; running again changes nothing.
    expect(runCli(["serve.py"], { cwd: dir })).toMatchObject({ code: 0, stdout: "" });
    expect(runCli(["--add-noqa", "serve.py"], { cwd: dir }).stderr).toContain("Added 0 noqa directives.");
    expect(readFileSync(file, "utf8")).toBe(after);
  });

  it("never breaks a file: lines ending in a continuation or inside a string are left alone", () => {
    const src = [
      "import threading",
      "import torch",
      "",
      "def finish():",
      "    x = torch.mps.synchronize() or \\",
      "        1",
      '    y = (torch.mps.synchronize(), """',
      '    text""")',
      "",
      "def worker():",
      "    finish()",
      "",
      "threading.Thread(target=worker).start()",
      "",
    ].join("\n");
    const dir = project({ "serve.py": src });
    const r = runCli(["--add-noqa", "serve.py"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/serve\.py:5: a comment cannot go at the end of this line /);
    expect(r.stderr).toMatch(/serve\.py:7: a comment cannot go at the end of this line /);
    expect(readFileSync(path.join(dir, "serve.py"), "utf8")).toBe(src);
  });

  it("refuses standard input", () => {
    const r = runCli(["--add-noqa", "-"], { input: BAD });
    expect(r.code).toBe(2);
  });
});

describe("baseline", () => {
  it("--write-baseline records findings; --baseline hides them across edits that move lines, shows new ones", () => {
    const dir = project({ "pkg/serve.py": BAD });
    const w = runCli(["--write-baseline", "mps-baseline.json", "."], { cwd: dir });
    expect(w).toMatchObject({ code: 0, stdout: "" });
    expect(w.stderr).toContain("Wrote 1 finding to mps-baseline.json.");
    const doc = JSON.parse(readFileSync(path.join(dir, "mps-baseline.json"), "utf8"));
    expect(doc).toMatchObject({ tool: "mps-lint", version: 1, findings: [{ code: "MPS001", file: "pkg/serve.py", line: 5 }] });
    expect(runCli(["--baseline", "mps-baseline.json", "."], { cwd: dir })).toMatchObject({ code: 0, stdout: "" });

    // Unrelated edits move the finding down four lines and re-indent nothing: still known.
    const file = path.join(dir, "pkg/serve.py");
    writeFileSync(file, "# header\n\nimport os\n\n" + BAD);
    expect(runCli(["--baseline", "mps-baseline.json", "."], { cwd: dir })).toMatchObject({ code: 0, stdout: "" });
    // From another working folder too (paths are relative to the baseline file).
    expect(runCli(["--baseline", "../mps-baseline.json", "."], { cwd: path.join(dir, "pkg") }).code).toBe(0);

    // A second, new device sync with the same text is a new occurrence: reported.
    writeFileSync(file, "# header\n\nimport os\n\n" + BAD + "\ndef w2():\n    torch.mps.synchronize()\n\nthreading.Thread(target=w2).start()\n");
    const r = runCli(["-f", "json", "--baseline", "mps-baseline.json", "."], { cwd: dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).map((d: { location: { row: number } }) => d.location.row)).toEqual([19]);

    // Changing the finding's own line makes it new.
    writeFileSync(file, BAD.replace("torch.mps.synchronize()", "torch.mps.synchronize()  # flushing"));
    expect(runCli(["--baseline", "mps-baseline.json", "."], { cwd: dir }).code).toBe(1);
  });

  it("a missing or foreign baseline file is a usage error", () => {
    const dir = project({ "serve.py": BAD, "other.json": '{"results": []}' });
    expect(runCli(["--baseline", "nope.json", "."], { cwd: dir })).toMatchObject({ code: 2 });
    const r = runCli(["--baseline", "other.json", "."], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not an mps-lint baseline");
  });
});
