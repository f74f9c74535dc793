// The language server's early cut-off (src/server/analysis.ts, src/facts/splice.ts): an edit that
// keeps the edited file's facts, positions aside, is answered with the previous findings moved
// instead of a lint. Property: after any sequence of edits (comments, blank lines, docstrings,
// spaces inside brackets, and edits that change the program), the analysis returns exactly what
// a from-scratch lint of the workspace with the same text returns, findings and problems, every
// field (positions, messages, fixes, witness paths). The edits are made on real files: fixture
// projects with findings across modules, and a copy of torch's torch/utils/data.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { discover } from "../src/files/discover.js";
import { compareMovedFacts, spliceBetween, moveFacts } from "../src/facts/splice.js";
import { extractFacts } from "../src/facts/extract.js";
import { lintWorkspace } from "../src/main.js";
import { MemoAnalysis, type AnalysisResult } from "../src/server/analysis.js";
import { FIXTURES } from "./harness.js";

const tmp = mkdtempSync(path.join(tmpdir(), "mps-lint-moved-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TORCH_DATA = "/usr/lib/python3/dist-packages/torch/utils/data";

function copy(name: string, from: string): string {
  const dir = path.join(tmp, name);
  cpSync(from, dir, { recursive: true, filter: (src) => !src.includes("__pycache__") });
  return dir;
}

/** What the analysis must return: a lint from scratch (no memory) of the workspace with these texts. */
function fromScratch(root: string, overrides: Map<string, string>) {
  const lint = lintWorkspace(
    { paths: [root], cwd: root, format: "json", quiet: false, exitZero: true, color: false, overrides, cache: false },
    { reportOnly: [...overrides.keys()] },
  );
  return { diagnostics: lint.diagnostics, problems: lint.problems };
}

type Edit = { kind: string; at: number; text: string };

/** One edit of `text` from a choice of place (0..1) and kind; most keep the facts, some do not. */
function applyEdit(text: string, e: Edit): string {
  const lines = text.split("\n");
  const row = Math.min(lines.length - 1, Math.floor(e.at * lines.length));
  const lineStart = lines.slice(0, row).reduce((n, l) => n + l.length + 1, 0);
  const line = lines[row];
  const indent = /^\s*/.exec(line)![0];
  switch (e.kind) {
    case "comment line":
      return text.slice(0, lineStart) + `${indent}# ${e.text}\n` + text.slice(lineStart);
    case "blank line":
      return text.slice(0, lineStart) + "\n" + text.slice(lineStart);
    case "delete line":
      return text.slice(0, lineStart) + text.slice(lineStart + line.length + 1);
    case "type in comment": {
      const hash = line.indexOf("#");
      return hash < 0 ? text : text.slice(0, lineStart + hash + 1) + e.text + text.slice(lineStart + hash + 1);
    }
    case "type in string": {
      const q = line.search(/["']/);
      return q < 0 ? text : text.slice(0, lineStart + q + 1) + e.text + text.slice(lineStart + q + 1);
    }
    case "space in brackets": {
      const b = line.indexOf("(");
      return b < 0 ? text : text.slice(0, lineStart + b + 1) + " " + text.slice(lineStart + b + 1);
    }
    case "statement":
      return text.slice(0, lineStart) + `${indent}${e.text.replace(/\W/g, "") || "x"} = 1\n` + text.slice(lineStart);
    default:
      return text;
  }
}

const edits = fc.record({
  kind: fc.constantFrom("comment line", "comment line", "blank line", "delete line", "type in comment", "type in string", "type in string", "space in brackets", "statement"),
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  text: fc.constantFrom("note", "x", "TODO later", "deliberate: waits for all threads", "noqa", "mps-lint: ignore", "Thread", "é"),
});

function checkProject(name: string, dir: string, open: string[], runs: number): { moved: number; edits: number } {
  let moved = 0;
  let count = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(open.length - 1), edits), { minLength: 1, maxLength: 6 }), (seq) => {
      const texts = new Map(open.map((f) => [f, readFileSync(f, "utf8")]));
      const analysis = new MemoAnalysis(lintWorkspace);
      const control = { cancelled: () => false };
      analysis.analyze({ root: dir, overrides: new Map(texts), changed: null }, control);
      analysis.warmUp(control);
      for (const [which, edit] of seq) {
        const file = open[which];
        texts.set(file, applyEdit(texts.get(file)!, edit));
        const got: AnalysisResult = analysis.analyze({ root: dir, overrides: new Map(texts), changed: [file] }, control);
        const want = fromScratch(dir, new Map(texts));
        expect(got.diagnostics, `${name}: ${got.how} after ${JSON.stringify(edit)} in ${path.basename(file)}`).toEqual(want.diagnostics);
        expect(got.problems).toEqual(want.problems);
        count++;
        if (got.how === "moved") moved++;
      }
    }),
    { numRuns: runs, seed: 25 },
  );
  return { moved, edits: count };
}

describe("language server: findings moved with an edit that keeps the facts", () => {
  it("equal a from-scratch lint after random edit sequences, on fixture projects with findings across modules", () => {
    // Every file open: a finding in one file has witness steps and message lines in others.
    const projects: [string, string][] = [
      ["device-sync-in-thread", path.join(FIXTURES, "device-sync-in-thread", "cross_module")],
      ["shared-event", path.join(FIXTURES, "shared-event", "cross_module")],
      ["unsynced-timing", path.join(FIXTURES, "unsynced-timing", "cross_module")],
    ];
    let moved = 0;
    let total = 0;
    let withFindings = 0;
    for (const [name, from] of projects) {
      const dir = copy(name, from);
      const open = discover([dir], dir);
      expect(open.length, name).toBeGreaterThan(0);
      const first = fromScratch(dir, new Map(open.map((f) => [f, readFileSync(f, "utf8")])));
      if (first.diagnostics.length > 0) withFindings++;
      const r = checkProject(name, dir, open, 20);
      moved += r.moved;
      total += r.edits;
    }
    // The projects have findings in their open files, and the cut-off answers a share of the edits
    // (a cut-off that never applies would pass the equality vacuously).
    expect(withFindings).toBe(projects.length);
    expect(moved).toBeGreaterThan(total / 5);
  }, 240_000);

  it.skipIf(!existsSync(TORCH_DATA))("equal a from-scratch lint after random edit sequences, on a copy of torch/utils/data", () => {
    const dir = copy("torch-data", TORCH_DATA);
    const open = ["dataloader.py", "sampler.py"].map((f) => path.join(dir, f));
    const r = checkProject("torch/utils/data", dir, open, 4);
    expect(r.moved).toBeGreaterThan(r.edits / 5);
  }, 240_000);
});

describe("language server: edits that keep the facts but change a finding are linted", () => {
  /** A fixture project copied, with `rel` replaced by `text` and open; `edit` checks each edit against a from-scratch lint. */
  function session(name: string, fixture: string, rel: string, text: string) {
    const dir = path.join(tmp, name);
    cpSync(path.join(FIXTURES, fixture), dir, { recursive: true });
    const file = path.join(dir, rel);
    const texts = new Map([[file, text]]);
    const analysis = new MemoAnalysis(lintWorkspace);
    const control = { cancelled: () => false };
    const first = analysis.analyze({ root: dir, overrides: new Map(texts), changed: null }, control);
    analysis.warmUp(control);
    const edit = (from: string, to: string) => {
      texts.set(file, texts.get(file)!.replace(from, to));
      const got = analysis.analyze({ root: dir, overrides: new Map(texts), changed: [file] }, control);
      expect(got.diagnostics).toEqual(fromScratch(dir, new Map(texts)).diagnostics);
      return got;
    };
    return { first, edit };
  }
  // A thread reaches `wait_all` (device-sync-in-thread/cross_module); `body` is its body.
  const syncIn = (name: string, body: string) => session(name, "device-sync-in-thread/cross_module", "app/engine/sync.py", `import torch\n\n\ndef wait_all():\n${body}\n`);

  it("a docstring that makes the sync a deliberate barrier (a rule reads the text)", () => {
    const s = syncIn("docstring", '    """Wait here."""\n    x = 1\n    y = 2\n    torch.mps.synchronize()');
    expect(s.first.diagnostics.map((d) => d.code)).toEqual(["MPS001"]);
    const got = s.edit("Wait here.", "Wait here for all devices.");
    // Still a finding, now saying the wait looks deliberate (and offering no fix).
    expect(got.diagnostics.map((d) => d.code)).toEqual(["MPS001"]);
    expect(got.diagnostics[0].message).not.toEqual(s.first.diagnostics[0].message);
    expect(got.how).toBe("analysed");
  });

  it("a line inserted between an own-line `# mps-lint: ignore` and the line it covers", () => {
    // A clock read around work that nothing waits for (MPS004), silenced from the line above.
    const text = readFileSync(path.join(FIXTURES, "unsynced-timing/cross_module/bench.py"), "utf8").replace(
      "    with CudaTimer(device) as t:  # expect: MPS004",
      "    # mps-lint: ignore[MPS004]\n    with CudaTimer(device) as t:",
    );
    const s = session("ignore", "unsynced-timing/cross_module", "bench.py", text);
    expect(s.first.diagnostics).toEqual([]);
    // Facts and comments unchanged, positions aside: the engine's findings are moved, and the
    // suppression stage runs again (the comment is beside the edit).
    const got = s.edit("ignore[MPS004]\n", "ignore[MPS004]\n    # note\n");
    expect(got.diagnostics.map((d) => d.code)).toEqual(["MPS004"]);
    // Away from the directive and the finding's lines, the same kind of edit is answered by moving.
    expect(s.edit("    return t.seconds", "    # note\n    return t.seconds").how).toBe("moved");
  });

  it("typing `# noqa` on a finding's line: the engine's findings are moved, the suppression stage runs again", () => {
    const text = readFileSync(path.join(FIXTURES, "unsynced-timing/cross_module/bench.py"), "utf8").replace("  # expect: MPS004", "");
    const s = session("noqa", "unsynced-timing/cross_module", "bench.py", text);
    expect(s.first.diagnostics.map((d) => d.code)).toEqual(["MPS004"]);
    const line = "    with CudaTimer(device) as t:";
    let typed = "";
    for (const ch of "  # noqa: MPS004") {
      const got = s.edit(line + typed + "\n", line + typed + ch + "\n");
      typed += ch;
      expect(got.how, JSON.stringify(typed)).toBe("moved");
    }
    expect(s.edit(line + typed, line + typed).diagnostics).toEqual([]);
    // Removing the comment brings the finding back, at the same place.
    const back = s.edit(line + typed, line);
    expect(back.how).toBe("moved");
    expect(back.diagnostics).toEqual(s.first.diagnostics);
  });
});

describe("language server: moved findings, counterexamples found in review", () => {
  /** A small project written to a temp folder, `open` files open; `edit` checks each edit against a from-scratch lint. */
  function workspace(name: string, files: Record<string, string>, open: string[]) {
    const dir = path.join(tmp, name);
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    const texts = new Map(open.map((f) => [path.join(dir, f), files[f]]));
    const analysis = new MemoAnalysis(lintWorkspace);
    const control = { cancelled: () => false };
    const first = analysis.analyze({ root: dir, overrides: new Map(texts), changed: null }, control);
    analysis.warmUp(control);
    const edit = (rel: string, change: (text: string) => string) => {
      const file = path.join(dir, rel);
      texts.set(file, change(texts.get(file)!));
      const got = analysis.analyze({ root: dir, overrides: new Map(texts), changed: [file] }, control);
      const want = fromScratch(dir, new Map(texts));
      expect(got.diagnostics).toEqual(want.diagnostics);
      expect(got.problems).toEqual(want.problems);
      return got;
    };
    return { first, edit };
  }

  it("a call that runs functions of two modules: the nearest wait does not compare offsets across files", () => {
    // `step()` runs a.wait or b.wait; the witness was the one whose sync came first by offset,
    // whatever file it is in, so comment lines at the top of a.py (facts moved) flipped it.
    const w = workspace(
      "two-callees",
      {
        "a.py": "import torch\n\n\ndef wait():\n    torch.mps.synchronize()\n",
        "b.py": "import torch\n\n\n\n\n\n\n\n\n\n\n\ndef wait():\n    torch.cuda.synchronize()\n",
        "main.py": "from a import wait as wa\nfrom b import wait as wb\n\n\ndef run(flag):\n    step = wa if flag else wb\n    step()\n\n\nasync def handle(flag):\n    run(flag)\n",
      },
      ["a.py", "main.py"],
    );
    expect(w.first.diagnostics.map((d) => d.code)).toEqual(["MPS006"]);
    w.edit("a.py", (t) => t.replace("import torch\n", "import torch\n" + "# a comment line that moves the offsets below it\n".repeat(20)));
  });

  it("lone CR line breaks: the splice counts rows as the facts do", () => {
    // Python (and the facts) read a lone CR as a line break. The splice counted rows by LF only,
    // 4 rows short here, so typing in the comment on the finding's own line looked far from it,
    // and the finding kept the fingerprint of its line's old text.
    const w = workspace("lone-cr", { "m.py": "import torch\r\r\r\r\n\n\nasync def handle():\n    torch.mps.synchronize()  # hello\n    return 1\n" }, ["m.py"]);
    expect(w.first.diagnostics.map((d) => d.code)).toEqual(["MPS006"]);
    w.edit("m.py", (t) => t.replace("hello", "hello world"));
  });

  it("a witness that starts in a notebook: the moved finding's message keeps the notebook's cell", () => {
    // The finding (b.py) is reached from a thread started in a notebook, through a.py. A line
    // inserted at the top of a.py kept the facts; the moved finding's message was rendered again
    // from the presented rows without the notebook's cells ("nb.ipynb:4", not "cell 2, line 4").
    const nb = JSON.stringify({"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# title\n"]}, {"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": ["import threading\n", "from a import work\n", "\n", "threading.Thread(target=work).start()\n"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5});
    const w = workspace(
      "notebook-witness",
      {
        "nb.ipynb": nb,
        "a.py": "from b import wait\n\n\ndef work():\n    x = 1\n    wait()\n",
        "b.py": "import torch\n\n\ndef wait():\n    torch.mps.synchronize()\n",
      },
      ["a.py", "b.py"],
    );
    expect(w.first.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining("nb.ipynb (cell 2, line 4)")]);
    w.edit("a.py", (t) => "# top\n" + t);
  });

  // Four threads run wait_all() of sync.py.
  const THREADED_MAIN = "import threading\nfrom sync import wait_all\n\n\ndef work():\n    wait_all()\n\n\nfor _ in range(4):\n    threading.Thread(target=work).start()\n";

  it("a rule's tree of a file kept from an earlier lint still counts as a read of its text", () => {
    // The rules' syntax trees are cached by facts object, and the server keeps facts objects
    // between lints: after an edit elsewhere (a lint), MPS001 found the comment that makes the
    // sync deliberate through the cached tree, the text read went unrecorded, and editing that
    // comment moved the old finding (still "no fix offered") instead of linting.
    const w = workspace(
      "syntax-cache",
      {
        "sync.py": "import torch\n\n\ndef wait_all():\n    x = 1\n    # deliberate: waits for all threads\n    torch.mps.synchronize()\n",
        "main.py": THREADED_MAIN,
      },
      ["sync.py", "main.py"],
    );
    expect(w.first.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining("no fix offered")]);
    expect(w.edit("main.py", (t) => t.replace("    wait_all()", "    y = 2\n    wait_all()")).how).toBe("analysed");
    w.edit("sync.py", (t) => t.replace("deliberate: waits for all threads", "waits"));
  });

  it("an open document that starts with a BOM, saved with it: its facts are not the file's", () => {
    // The file's bytes and the buffer's UTF-8 have one hash, but the file is read without its BOM:
    // the first lint (from disk) kept facts and a syntax tree one offset short, and later lints
    // took them for the buffer's (fix offsets 13 where a from-scratch lint says 14).
    const w = workspace(
      "bom",
      {
        "sync.py": "\uFEFFimport torch\n\n\ndef wait_all():\n    torch.mps.synchronize()\n",
        "main.py": THREADED_MAIN,
      },
      ["sync.py", "main.py"],
    );
    expect(w.first.diagnostics.map((d) => d.code)).toEqual(["MPS001"]);
    w.edit("main.py", (t) => t + "# x\n");
    w.edit("main.py", (t) => t.replace("# x\n", ""));
  });
});

describe("splice: an edit as a map of positions", () => {
  const file = "/p/m.py";
  const src = 'import torch\n\n\ndef f(x):\n    """Doc."""\n    y = g(x)  # note\n    return y\n';

  it("moves every position after a whole inserted line down one row, and equal facts result", () => {
    const next = src.replace("def f", "# c\ndef f");
    const sp = spliceBetween(src, next)!;
    expect(sp).toMatchObject({ firstRow: 3, lastRow: 3, delta: 4 });
    expect(moveFacts(extractFacts(file, src), sp)).toEqual({ ...extractFacts(file, next), scopes: expect.any(Array) });
    expect(compareMovedFacts(extractFacts(file, src), extractFacts(file, next), sp)).toBe("same");
  });

  it("tells facts that differ only in their suppression comments from facts that differ", () => {
    const noqa = src.replace("# note", "# noqa: MPS004");
    expect(compareMovedFacts(extractFacts(file, src), extractFacts(file, noqa), spliceBetween(src, noqa)!)).toBe("comments");
    const call = src.replace("    return y\n", "    return h(y)\n");
    expect(compareMovedFacts(extractFacts(file, src), extractFacts(file, call), spliceBetween(src, call)!)).toBe("different");
  });

  it("finds the line start of a line inserted before one of the same indentation", () => {
    const next = src.replace("    y = g(x)", "    # c\n    y = g(x)");
    expect(spliceBetween(src, next)).toMatchObject({ start: src.indexOf("    y = g"), from: { row: 5, column: 0 }, toAfter: { row: 6, column: 0 } });
  });

  it("is no splice for an edit in a line's indentation or one that splits a line", () => {
    expect(spliceBetween(src, src.replace("    return y", "     return y"))).toBeNull();
    expect(spliceBetween(src, src.replace("g(x)", "g(\nx)"))).toBeNull();
    expect(spliceBetween(src, src)).toBeNull();
  });

  it("leaves facts unmovable when a position lies in the removed text", () => {
    const next = src.replace("    y = g(x)  # note\n", "");
    const sp = spliceBetween(src, next)!;
    expect(sp).not.toBeNull();
    expect(moveFacts(extractFacts(file, src), sp)).toBeNull();
  });
});
