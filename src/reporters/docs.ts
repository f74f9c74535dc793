// Absolute documentation links for formats that need a URI (SARIF helpUri, GitLab). The rule
// pages ship with the package (docs/rules); until the project has a web site the link is the
// installed page's file: URI.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ruleUrl, type RuleMeta } from "../rule.js";

// dist/src/reporters -> package root (also works from src/reporters under a TS runner).
function packageRoot(): string {
  let d = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(d, "package.json"))) return d;
    d = path.dirname(d);
  }
  return path.resolve(import.meta.dirname, "..", "..", "..");
}

const ROOT = packageRoot();

export function packageVersion(): string {
  try {
    return String(JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version ?? "0.0.0");
  } catch {
    return "0.0.0";
  }
}

export function helpUri(meta: RuleMeta): string {
  return pathToFileURL(path.join(ROOT, ruleUrl(meta))).href;
}

export function informationUri(): string {
  return pathToFileURL(path.join(ROOT, "README.md")).href;
}
