// Files -> ModuleFacts: read, decode and parse each file once. This is the stage a cache and
// worker threads make fast; everything after it works on facts alone.

import { extractFacts } from "./facts/extract.js";
import type { ModuleFacts } from "./facts/model.js";
import { fsErrorText } from "./discover.js";
import { readPython } from "./source.js";

export interface FileProblem {
  file: string;
  message: string;
}

export interface Collected {
  facts: ModuleFacts[];
  problems: FileProblem[];
  /** Source text by file, read on demand (fixes, baselines) and kept once read. */
  source(file: string): string;
}

export interface CollectOptions {
  /** Source text to use instead of reading a file (stdin, tests). */
  overrides?: Map<string, string>;
}

export function collectFacts(files: string[], options: CollectOptions = {}): Collected {
  const facts: ModuleFacts[] = [];
  const problems: FileProblem[] = [];
  const sources = new Map<string, string>();
  for (const file of files) {
    let text: string;
    const override = options.overrides?.get(file);
    if (override !== undefined) text = override;
    else {
      try {
        const src = readPython(file);
        if (src.warning) problems.push({ file, message: src.warning });
        text = src.text;
      } catch (e) {
        problems.push({ file, message: `cannot read: ${fsErrorText(e)}; not linted` });
        continue;
      }
    }
    sources.set(file, text);
    try {
      facts.push(extractFacts(file, text));
    } catch (e) {
      // An internal error on one file must not lose the others' findings.
      problems.push({ file, message: `internal error while analysing this file (${e instanceof Error ? e.message : String(e)}); not linted` });
    }
  }
  return {
    facts,
    problems,
    source(file: string): string {
      let s = sources.get(file);
      if (s === undefined) {
        s = options.overrides?.get(file) ?? readPython(file).text;
        sources.set(file, s);
      }
      return s;
    },
  };
}
