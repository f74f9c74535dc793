// Small queries over the project shared by several rules (queries over one module's facts alone
// are in src/facts/queries.ts).

import type { Project } from "../../src/project/project.js";

/** Does the call construct an Event (torch.mps.Event(), torch.cuda.Event(...), torch.Event(...)). */
export function isEventConstructor(project: Project, m: number, call: number): boolean {
  return project.index.evalCall(m, call).some((v) => v.k === "event" && v.m === m && v.call === call);
}

/** Compare dotted versions numerically ("2.5.1+cu121" < "2.16"); suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .trim()
      .replace(/^v/i, "")
      .split(/[+\s]/)[0]
      .split(".")
      .map((p) => parseInt(p, 10))
      .map((n) => (Number.isFinite(n) ? n : 0));
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
