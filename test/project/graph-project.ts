// Real parsed Python for tests of src/project: files written to a temporary folder (module names
// come from the folders, as in a real project), facts extracted, the project built over them.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { extractFacts } from "../../src/facts/extract.js";
import type { FnRef } from "../../src/project/index.js";
import { Project, type ProjectOptions } from "../../src/project/project.js";

export interface Built {
  root: string;
  project: Project;
  /** A function or class by "relative/file.py:Qual.name". */
  fn(where: string): FnRef;
}

/** Files as {relative path: source}; options' roots are relative to the temporary folder. */
export function buildProject(files: Record<string, string>, options: ProjectOptions = {}): Built {
  const root = mkdtempSync(path.join(tmpdir(), "mps-lint-graph-"));
  const abs: string[] = [];
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    if (rel.endsWith(".py")) abs.push(file);
  }
  const facts = abs.map((f) => extractFacts(f, files[path.relative(root, f)]));
  const project = new Project(facts, {
    ...options,
    srcRoots: options.srcRoots?.map((r) => path.join(root, r)),
    searchRoots: options.searchRoots?.map((r) => path.join(root, r)),
  });
  const fn = (where: string): FnRef => {
    const [file, qual] = where.split(":");
    const m = project.index.modules.findIndex((f) => f.file === path.join(root, file));
    const s = project.index.modules[m]?.scopes.findIndex((sc) => sc.qualname === qual) ?? -1;
    if (m < 0 || s < 0) throw new Error(`no ${where}`);
    return { m, s };
  };
  return { root, project, fn };
}

export const py = (lines: string[]): string => lines.join("\n") + "\n";
