// MPS000: the syntax errors tree-sitter found while the facts were extracted
// (ModuleFacts.syntaxErrors, already one per broken region, at most 50 a file) are findings.

import { defineRule } from "../src/engine/rule.js";

export default defineRule({
  meta: {
    code: "MPS000",
    name: "invalid-syntax",
    severity: "error",
    category: "correctness",
    // Syntax errors are reported in the files that are parsed: those the prefilter keeps, those
    // the analysis loads, and files named on the command line (LintInput.parseAlways). Parsing
    // every file for it cost +60% CPU and +60% memory on dML.
    tokens: [],
    fixable: null,
    summary: "Python that does not parse: reported where the parser gave up, and the rest of the file is linted anyway.",
    why: [
      "Code that does not parse cannot run, and mps-lint cannot see what it would do: a",
      "`synchronize()` inside the broken part is invisible to every other rule. As Ruff does, the",
      "syntax error is reported as a finding with a code, so it shows in every output format and",
      "fails the run. The parser (tree-sitter) recovers: the code around the error is still",
      "linted, in this file and in all the others. Each broken region is reported once, at its",
      "first error; of several errors on one line only the first is reported.",
    ].join("\n"),
    example: ["import torch", "", "def main(model, x:", "    y = model(x)", "    torch.mps.synchronize()", "    return y"].join("\n"),
    useInstead: ["import torch", "", "def main(model, x):", "    y = model(x)", "    torch.mps.synchronize()", "    return y"].join("\n"),
    fixSafety: "No automatic fix: correct the syntax by hand.",
    limitations: [
      "On by default, as Ruff reports syntax errors (`ignore = [\"MPS000\"]` turns it off). It",
      "reports in the files mps-lint parses: the files named on the command line, every file that",
      "can hold another rule's finding (one that names a thread, executor, clock, `async def`,",
      "`elapsed_time` or a directive of ours), and the modules the analysis loads. A file with none",
      "of these, in a folder run, is not parsed, so its syntax errors are not seen: name it, select",
      "MPS000 by name (`--extend-select MPS000`) or pass `--no-prefilter`, and every file is parsed",
      "(slower). tree-sitter's Python grammar is not CPython's: it accepts Python 2",
      "`print` statements and `except X, e:`, and does not check indentation as strictly, so such",
      "files give no finding; where it recovers, the location is where its recovery starts, which",
      "can be a little before the token CPython would name. At most 50 syntax errors are reported",
      "per file.",
    ].join("\n"),
    messages: { syntaxError: "SyntaxError: {{error}}" },
    references: ["Ruff: syntax errors are reported as diagnostics (invalid-syntax)", "PEP 617 (the CPython parser)"],
  },
  check(ctx) {
    for (const e of ctx.facts.syntaxErrors) ctx.report({ messageId: "syntaxError", data: { error: e.message }, range: e.range });
  },
});
