// Every output format reports the same findings; SARIF is valid against the official schema.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "./cli.js";
import { BAD, WARN, project } from "./project.js";

const NOTEBOOK = JSON.stringify({
  cells: [
    { cell_type: "markdown", metadata: {}, source: ["# Demo\n"] },
    { cell_type: "code", metadata: {}, outputs: [], execution_count: null, source: ["%load_ext autoreload\n", "import threading\n", "import torch\n"] },
    { cell_type: "code", metadata: {}, outputs: [], execution_count: null, source: ["def worker():\n", "    torch.mps.synchronize()\n", "\n", "threading.Thread(target=worker).start()\n"] },
  ],
  metadata: { kernelspec: { name: "python3", language: "python" } },
  nbformat: 4,
  nbformat_minor: 5,
});

const files = {
  "pkg/serve.py": BAD,
  "pkg/w.py": WARN,
  "pkg/with space.py": BAD.replace("def finish", "\n\ndef finish"),
  "nb/demo.ipynb": NOTEBOOK,
};

/** file|cell|line|code for each finding, sorted. */
type Parser = (out: string) => string[];
const k = (file: string, cell: number | string | undefined, line: number | string, code: string) => `${file}|${cell ?? ""}|${line}|${code}`;

const PARSERS: Record<string, Parser> = {
  stylish: (out) => {
    const keys: string[] = [];
    let file = "";
    for (const line of out.split("\n")) {
      if (/^\S/.test(line) && !line.startsWith("✖") && !line.startsWith("warning:")) file = line;
      const m = /^ {2}(?:cell (\d+):)?(\d+):\d+\s+(?:error|warning|info)\s+.*\s(MPS\d+)$/.exec(line);
      if (m) keys.push(k(file, m[1], m[2], m[3]));
    }
    return keys;
  },
  concise: (out) =>
    out
      .split("\n")
      .map((l) => /^(.+?):(?:cell (\d+):)?(\d+):\d+: (MPS\d+) /.exec(l))
      .filter((m) => m !== null)
      .map((m) => k(m[1], m[2], m[3], m[4])),
  json: (out) => (JSON.parse(out) as JsonFinding[]).map(jsonKey),
  "json-lines": (out) =>
    out
      .trim()
      .split("\n")
      .map((l) => jsonKey(JSON.parse(l))),
  sarif: (out) =>
    JSON.parse(out).runs[0].results.map((r: SarifResult) =>
      k(decodeURIComponent(r.locations[0].physicalLocation.artifactLocation.uri), r.locations[0].properties?.cell, r.locations[0].physicalLocation.region.startLine, r.ruleId),
    ),
  github: (out) =>
    out
      .trim()
      .split("\n")
      .map((l) => {
        const m = /^::(error|warning|notice) file=([^,]+),line=(\d+),col=\d+,endLine=\d+,endColumn=\d+,title=(MPS\d+)::(?:cell (\d+): )?/.exec(l)!;
        return k(m[2], m[5], m[3], m[4]);
      }),
  gitlab: (out) => JSON.parse(out).map((i: { location: { path: string; lines: { begin: number } }; check_name: string; cell?: number }) => k(i.location.path, i.cell, i.location.lines.begin, i.check_name)),
  junit: (out) => [...out.matchAll(/<!\[CDATA\[(.+?):(?:cell (\d+):)?(\d+):\d+: (MPS\d+) /g)].map((m) => k(m[1], m[2], m[3], m[4])),
  pylint: (out) =>
    out
      .trim()
      .split("\n")
      .map((l) => {
        const m = /^(.+?):(?:cell (\d+):)?(\d+): \[(MPS\d+)\(([a-z-]+)\), \] /.exec(l)!;
        return k(m[1], m[2], m[3], m[4]);
      }),
};

interface JsonFinding {
  code: string;
  filename: string;
  cell?: number;
  location: { row: number };
}
interface SarifResult {
  ruleId: string;
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } }; properties?: { cell?: number } }[];
}
let dirForJson = "";
const jsonKey = (d: JsonFinding) => k(path.relative(dirForJson, d.filename).split(path.sep).join("/"), d.cell, d.location.row, d.code);

describe("output formats", () => {
  const dir = project(files);
  dirForJson = dir;
  const expected = PARSERS.json(runCli(["-f", "json", "."], { cwd: dir }).stdout).sort();

  it("the reference run has findings in several files, a warning and a notebook cell", () => {
    expect(expected).toContain("nb/demo.ipynb|3|2|MPS001");
    expect(expected).toContain("pkg/serve.py||5|MPS001");
    expect(expected).toContain("pkg/w.py||4|MPS002");
    expect(expected).toContain("pkg/with space.py||7|MPS001");
    expect(expected).toHaveLength(4);
  });

  for (const format of Object.keys(PARSERS)) {
    it(`${format} reports the same findings`, () => {
      const r = runCli(["-f", format, "."], { cwd: dir });
      expect(r.code).toBe(1);
      expect(PARSERS[format](r.stdout).sort()).toEqual(expected);
    });
  }

  it("--output-file writes the report instead of printing it", () => {
    const r = runCli(["-f", "sarif", "-o", "out.sarif", "."], { cwd: dir });
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(PARSERS.sarif(readFileSync(path.join(dir, "out.sarif"), "utf8")).sort()).toEqual(expected);
  });

  it("SARIF is valid SARIF 2.1.0 (official schema), with rules, help URIs and thread flows", () => {
    const schema = JSON.parse(readFileSync(path.join(ROOT, "test", "data", "sarif-schema-2.1.0.json"), "utf8"));
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const log = JSON.parse(runCli(["-f", "sarif", "."], { cwd: dir }).stdout);
    const ok = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // The validator does reject a broken log (the test can fail).
    expect(validate({ ...log, version: "2.0.0" })).toBe(false);
    expect(validate({ ...log, runs: [{ ...log.runs[0], results: [{ message: {} }] }] })).toBe(false);

    const run = log.runs[0];
    expect(run.tool.driver.name).toBe("mps-lint");
    const ids = run.tool.driver.rules.map((r: { id: string }) => r.id);
    expect(ids).toEqual(expect.arrayContaining(["MPS001", "MPS002", "MPS003"]));
    // No dead file: links; the help travels inside the log (MPS_LINT_DOCS_URL adds helpUri: test/adoption-docs.test.ts).
    for (const r of run.tool.driver.rules) {
      expect(r.helpUri).toBeUndefined();
      expect(r.help.markdown).toContain(r.shortDescription.text);
    }
    const sync = run.results.find((r: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) => r.ruleId === "MPS001" && r.locations[0].physicalLocation.artifactLocation.uri === "pkg/serve.py");
    expect(sync.level).toBe("error");
    expect(run.tool.driver.rules[sync.ruleIndex].id).toBe("MPS001");
    const steps = sync.codeFlows[0].threadFlows[0].locations.map((l: { location: { message: { text: string } } }) => l.location.message.text);
    expect(steps).toEqual(["Thread(target=worker)", "worker", "finish", "MPS001"]);
    expect(sync.relatedLocations).toHaveLength(3);
    expect(sync.partialFingerprints["mpsLintFingerprint/v1"]).toMatch(/^[0-9a-f]{32}$/);
    expect(run.results.find((r: { ruleId: string }) => r.ruleId === "MPS002").level).toBe("warning");
  });

  it("github annotations escape what workflow commands need escaped", () => {
    const out = runCli(["-f", "github", "."], { cwd: dir }).stdout;
    expect(out).toContain("::error file=pkg/serve.py,line=5,col=5,endLine=5,endColumn=28,title=MPS001::");
    expect(out).toMatch(/^::warning file=pkg\/w\.py,line=4,/m);
    for (const line of out.trim().split("\n")) expect(line).not.toMatch(/[\r]/);
  });

  it("gitlab issues have unique fingerprints and GitLab severities", () => {
    const issues = JSON.parse(runCli(["-f", "gitlab", "."], { cwd: dir }).stdout);
    const fps = issues.map((i: { fingerprint: string }) => i.fingerprint);
    expect(new Set(fps).size).toBe(fps.length);
    expect(issues.map((i: { severity: string }) => i.severity).sort()).toEqual(["major", "major", "major", "minor"]);
  });

  it("junit is well-formed XML (checked by a real XML parser) with one testsuite per file", () => {
    const out = runCli(["-f", "junit", "."], { cwd: dir }).stdout;
    const py = spawnSync("python3", ["-c", "import sys, xml.etree.ElementTree as E; r = E.fromstring(sys.stdin.read()); print(len(r.findall('testsuite')), len(r.findall('.//failure')))"], {
      input: out,
      encoding: "utf8",
    });
    expect(py.stderr).toBe("");
    expect(py.stdout.trim()).toBe("4 4");
  });
});

// ---- golden reports -----------------------------------------------------------------------------
// Each reporter's whole output on a small project whose finding is reached across modules
// (serve.py starts the thread, engine.py syncs), with a warning beside it. Paths are normalised
// (<project>, <mps-lint>), and SARIF's rule catalogue is cut to id and name (the rule docs have
// their own tests). Regenerate with `npm run test:update` and read the diff.

const GOLDEN_PROJECT = {
  "pkg/__init__.py": "",
  "pkg/engine.py": "import torch\n\n\ndef wait_all():\n    torch.mps.synchronize()\n",
  "pkg/serve.py": "import threading\n\nfrom pkg.engine import wait_all\n\n\ndef worker(model, x):\n    y = model(x)\n    wait_all()\n    return y\n\n\nthreading.Thread(target=worker, args=(None, None)).start()\n",
  "pkg/w.py": WARN,
};
const FORMATS = ["stylish", "concise", "full", "grouped", "json", "json-lines", "sarif", "github", "gitlab", "junit", "pylint", "rdjson", "azure"];

function normalise(out: string, format: string, dir: string): string {
  let text = out.split(dir).join("<project>").split(ROOT).join("<mps-lint>");
  if (format === "sarif") {
    const log = JSON.parse(text);
    for (const run of log.runs) {
      run.tool.driver.version = "<version>";
      run.tool.driver.rules = run.tool.driver.rules.map((r: { id: string; name: string }) => ({ id: r.id, name: r.name }));
    }
    text = JSON.stringify(log, null, 2) + "\n";
  }
  return text;
}

describe("golden reports (test/snapshots/formats)", () => {
  const dir = project(GOLDEN_PROJECT);
  for (const format of FORMATS) {
    it(`${format}: a cross-module finding and a warning`, async () => {
      const r = runCli(["-f", format, "--no-cache", "."], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe("");
      await expect(normalise(r.stdout, format, dir)).toMatchFileSnapshot(path.join(ROOT, "test", "snapshots", "formats", `${format}.txt`));
    });
  }

  it("json: each witness step names the file it is in (the thread starts in serve.py, the sync is in engine.py)", () => {
    const out = JSON.parse(runCli(["-f", "json", "--no-cache", "."], { cwd: dir }).stdout) as { code: string; filename: string; path: { filename: string; label: string; location: { row: number } }[] }[];
    const sync = out.find((d) => d.code === "MPS001")!;
    expect(path.relative(dir, sync.filename)).toBe(path.join("pkg", "engine.py"));
    expect(sync.path.map((s) => `${path.relative(dir, s.filename)}:${s.location.row} ${s.label}`)).toEqual([
      `${path.join("pkg", "serve.py")}:12 Thread(target=worker)`,
      `${path.join("pkg", "serve.py")}:6 worker`,
      `${path.join("pkg", "serve.py")}:8 wait_all`,
    ]);
  });

  it("clean code: each format prints exactly its empty report", () => {
    const clean = project({ "ok.py": "x = 1\n" });
    const empty: Record<string, string> = {
      stylish: "",
      concise: "All checks passed!\n",
      full: "All checks passed!\n",
      grouped: "All checks passed!\n",
      azure: "",
      json: "[]\n",
      "json-lines": "",
      github: "",
      gitlab: "[]\n",
      pylint: "",
    };
    for (const format of FORMATS) {
      const r = runCli(["-f", format, "--no-cache", "."], { cwd: clean });
      expect({ format, code: r.code, stderr: r.stderr }).toEqual({ format, code: 0, stderr: "" });
      if (format in empty) expect({ format, out: r.stdout }).toEqual({ format, out: empty[format] });
    }
    // SARIF: one run, the rule catalogue, no results; JUnit: one passing case per file.
    const sarif = JSON.parse(runCli(["-f", "sarif", "--no-cache", "."], { cwd: clean }).stdout);
    expect(sarif.runs).toHaveLength(1);
    expect(sarif.runs[0].results).toEqual([]);
    expect(sarif.runs[0].tool.driver.rules.length).toBeGreaterThan(0);
    expect(runCli(["-f", "junit", "--no-cache", "."], { cwd: clean }).stdout).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="mps-lint" tests="1" failures="0" errors="0">',
        '  <testsuite name="ok.py" tests="1" failures="0" errors="0">',
        '    <testcase name="mps-lint" classname="ok.py"/>',
        "  </testsuite>",
        "</testsuites>",
        "",
      ].join("\n"),
    );
  });
});
