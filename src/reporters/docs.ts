// Documentation links that travel: rule pages are published under a public base, given by
// MPS_LINT_DOCS_URL (e.g. https://example.org/mps-lint/docs/rules). Without one, JSON keeps the
// repository-relative path (docs/rules/<name>.md, also in the package) and SARIF carries no
// helpUri (a file: URI into the machine that ran the lint is dead everywhere else): the rule's
// help is embedded in the SARIF log itself (help.text, help.markdown).

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { DOCS_BASE, ruleUrl, type RuleMeta } from "../engine/rule.js";

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

/** The public base for rule pages, without a trailing slash, or null. */
export function docsBase(): string | null {
  const base = process.env.MPS_LINT_DOCS_URL?.trim();
  return base && /^https?:\/\//.test(base) ? base.replace(/\/+$/, "") : null;
}

/** A rule page's link as reporters print it: under the public base when there is one. */
export function publicDocUrl(url: string): string {
  const base = docsBase();
  const rel = url.startsWith(`${DOCS_BASE}/`) ? url.slice(DOCS_BASE.length + 1) : null;
  return base && rel ? `${base}/${rel}` : url;
}

export function helpUri(meta: RuleMeta): string | undefined {
  const base = docsBase();
  return base ? publicDocUrl(ruleUrl(meta)) : undefined;
}

export function informationUri(): string | undefined {
  return docsBase() ?? undefined;
}
