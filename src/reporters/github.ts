// GitHub Actions workflow commands: each finding becomes an annotation on the pull request.
// https://docs.github.com/actions/reference/workflow-commands-for-github-actions

import { displayPath } from "./paths.js";
import type { ReportInput } from "./types.js";

const COMMAND = { error: "error", warning: "warning", info: "notice" } as const;

/** Escaping of the message (data) part. */
function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Escaping of property values: also ':' and ','. */
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

export function github(input: ReportInput): string {
  return input.diagnostics
    .map((d) => {
      const props = [
        `file=${escapeProperty(displayPath(d.file, input.cwd))}`,
        `line=${d.range.start.row + 1}`,
        `col=${d.range.start.column + 1}`,
        `endLine=${d.range.end.row + 1}`,
        `endColumn=${d.range.end.column + 1}`,
        `title=${escapeProperty(d.code)}`,
      ].join(",");
      const where = d.cell !== undefined ? `cell ${d.cell}: ` : "";
      return `::${COMMAND[d.severity]} ${props}::${escapeData(`${where}${d.message} (${d.code} ${d.name})`)}\n`;
    })
    .join("");
}
