// MPS100: runs after the suppression stage (src/suppress/suppress.ts), over the facts it reports: each
// directive of a file and the codes it silenced. This rule decides which directives are unused.
// `check` (over a module's facts, before suppressions) has nothing to do.

import { defineRule } from "../src/engine/rule.js";

const CODE = "MPS100";

export default defineRule({
  meta: {
    code: CODE,
    name: "unused-suppression",
    severity: "warning",
    category: "correctness",
    // Runs on directive comments: the prefilter keeps every file that spells one (DIRECTIVE_PATTERN).
    tokens: [],
    fixable: null,
    optIn: true,
    summary: "A suppression comment (`# noqa: MPS...`, `# mps-lint: ignore[...]`, `# mps-lint: file-ignore[...]`) that suppresses nothing.",
    why: [
      "A suppression outlives the finding it silenced: the code is fixed or moved and the comment",
      "stays. It then hides the next real finding on that line. Like Ruff's RUF100, this rule",
      "reports suppressions of mps-lint codes that no longer match a finding.",
    ].join("\n"),
    example: [
      "import torch",
      "",
      "def main(model, x):",
      "    y = model(x)",
      "    torch.mps.synchronize()  # noqa: MPS001",
      "    return y",
    ].join("\n"),
    useInstead: [
      "import torch",
      "",
      "def main(model, x):",
      "    y = model(x)",
      "    torch.mps.synchronize()",
      "    return y",
    ].join("\n"),
    fixSafety: "No automatic fix: remove the comment (or the named code) by hand.",
    limitations: [
      "Only codes of rules that ran on the file are judged: with `--select MPS002`, a",
      "`# noqa: MPS001` is not reported. A bare `# noqa` is never reported (it may serve another",
      "linter), nor are codes of other tools (`E501`). The rule runs after the analysis, so it",
      "sees suppressions only in the files that were linted.",
    ].join("\n"),
    messages: {
      unused: "unused suppression: `{{directive}}` suppresses nothing; remove it",
      unusedCodes: "unused suppression: `{{directive}}` suppresses nothing for {{codes}}; remove it",
    },
    references: ["Ruff RUF100 (unused-noqa)"],
  },
  check() {
    /* runs on the suppression stage's facts: checkDirectives */
  },
  checkDirectives(ctx) {
    for (const { directive: dir, suppressed } of ctx.directives) {
      // A bare `# noqa` may be there for another linter: never ours to report.
      if (dir.kind === "noqa" && dir.codes === null) continue;
      let unusedCodes: string[];
      if (dir.codes === null) {
        if (suppressed.size > 0) continue;
        unusedCodes = [];
      } else {
        // Codes of ours that ran here and found nothing to silence; codes of other tools are
        // theirs, and a code that did not run cannot be judged. MPS100 itself is never unused.
        unusedCodes = dir.codes.filter((c) => c.startsWith("MPS") && c !== CODE && ctx.enabled.has(c) && !suppressed.has(c));
        // MPS-prefixed names that are no code of ours (`MPS1x`) suppress nothing anywhere.
        unusedCodes.push(...dir.codes.filter((c) => c.startsWith("MPS") && !/^MPS\d+$/.test(c)));
        if (unusedCodes.length === 0) continue;
      }
      const range = { start: { row: dir.row, column: dir.column }, end: { row: dir.row, column: dir.column + dir.text.length } };
      ctx.report(
        unusedCodes.length > 0
          ? { range, messageId: "unusedCodes", data: { directive: dir.text, codes: unusedCodes.join(", ") } }
          : { range, messageId: "unused", data: { directive: dir.text } },
      );
    }
  },
});
