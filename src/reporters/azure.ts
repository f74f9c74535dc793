// Azure Pipelines logging commands, as Ruff's `azure` format writes them:
// ##vso[task.logissue type=error;sourcepath=FILE;linenumber=L;columnnumber=C;code=CODE;]message
// https://learn.microsoft.com/azure/devops/pipelines/scripts/logging-commands

import { displayPath } from "./paths.js";
import type { ReportInput } from "./types.js";

/** Azure's escaping of the message. */
function escapeMessage(s: string): string {
  return s.replace(/%/g, "%AZP25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Property values also end at ";" and "]". */
function escape(s: string): string {
  return escapeMessage(s).replace(/;/g, "%3B").replace(/]/g, "%5D");
}

export function azure(input: ReportInput): string {
  return input.diagnostics
    .map((d) => {
      const where = d.cell !== undefined ? `cell ${d.cell}: ` : "";
      const type = d.severity === "error" ? "error" : "warning";
      return (
        `##vso[task.logissue type=${type};sourcepath=${escape(displayPath(d.file, input.cwd))};` +
        `linenumber=${d.range.start.row + 1};columnnumber=${d.range.start.column + 1};code=${escape(d.code)};]` +
        `${escapeMessage(`${where}${d.message}`)}\n`
      );
    })
    .join("");
}
