// Compact text for a witness path: "reached from Thread(target=worker) at line 40 via worker -> finish".

import path from "node:path";
import type { PathStep } from "../types.js";

export function describePath(steps: PathStep[], currentFile: string): string {
  if (steps.length === 0) return "";
  const [spawn, ...hops] = steps;
  const where = (s: PathStep) =>
    s.file === currentFile ? `line ${s.range.start.row + 1}` : `${path.basename(s.file)}:${s.range.start.row + 1}`;
  // Name the place of a hop wherever the path moves to another file.
  const chain = hops.map((h, i) => (h.file !== (i > 0 ? hops[i - 1] : spawn).file ? `${h.label} (${where(h)})` : h.label));
  return `reached from ${spawn.label} at ${where(spawn)}${chain.length > 0 ? ` via ${chain.join(" -> ")}` : ""}`;
}
