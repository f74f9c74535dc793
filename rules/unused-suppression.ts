// MPS100: meta only. The findings come from the suppression stage (src/suppress.ts), which is
// the one place that knows which directives silenced something; `check` has nothing to do.

import { defineRule } from "../src/rule.js";

export default defineRule({
  meta: {
    code: "MPS100",
    name: "unused-suppression",
    severity: "warning",
    category: "correctness",
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
    references: ["Ruff RUF100 (unused-noqa)"],
  },
  check() {
    /* reported by the suppression stage */
  },
});
