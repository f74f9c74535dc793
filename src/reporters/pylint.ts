// Pylint's parseable format: `path:line: [CODE(name), ] message`, which editors and CI parsers
// written for Pylint read.

import { linePath } from "./paths.js";
import type { ReportInput } from "./types.js";

export function pylint(input: ReportInput): string {
  return input.diagnostics
    .map((d) => {
      const where = d.cell !== undefined ? `cell ${d.cell}:` : "";
      return `${linePath(d.file, input.cwd)}:${where}${d.range.start.row + 1}: [${d.code}(${d.name}), ] ${d.message}\n`;
    })
    .join("");
}
