// Every configuration key, spelled once (Ruff's `Options` with `#[option]` is the model): its
// type, default, how a value combines with an extended file's and the command line's, its
// documentation and example, the JSON schema of its value, and how a value is checked and read.
// Validation (src/config/config.ts validate), the defaults, `extend`'s and `--config "key = value"`'s
// merge, `--show-settings`, the reference in docs/configuration.md and docs/mps-lint.schema.json are
// all derived from this table (src/config/reference.ts writes and checks the last two).

import path from "node:path";
import { RULES } from "../../rules/index.js";
import { FORMATS } from "../reporters/formats.js";
import { packageVersion } from "../reporters/docs.js";
import { distance } from "../files/text.js";
import type { Severity } from "../types.js";

export const VERIFY_DEVICES = ["auto", "mps", "cuda", "xpu", "cpu"] as const;
export type VerifyDevice = (typeof VERIFY_DEVICES)[number];

export interface VerifySettings {
  /** Python interpreter to run the suspect code with. */
  python?: string;
  /** What to run instead of each linted file ("app.py args", "-m pkg.mod", "pkg.mod:main"). */
  entry?: string;
  /** Seconds per run of the target. */
  timeout?: number;
  device?: VerifyDevice;
}

export interface PerFileIgnore {
  /** The glob as written. */
  pattern: string;
  /** Rule selectors (codes, prefixes, names). */
  codes: string[];
}

/** What one configuration file sets, field by field (the option table's `field`s). */
export interface OptionFields {
  select: string[] | null;
  extendSelect: string[];
  ignore: string[];
  perFileIgnores: PerFileIgnore[];
  extendPerFileIgnores: PerFileIgnore[];
  exclude: string[];
  extendExclude: string[];
  /** Import roots, absolute. */
  src: string[];
  threadEntryPoints: string[];
  torchVersion: string | null;
  /** The first PyTorch with per-thread MPS streams (MPS008); null: the rule's default. */
  mpsPerThreadStreamsVersion: string | null;
  /** Severity by rule code. */
  severity: Record<string, Severity>;
  verify: VerifySettings;
  /** Globs of the files folder walks lint (null: every .py, .pyi and .ipynb file). */
  include: string[] | null;
  respectGitignore: boolean;
  outputFormat: string | null;
  fix: boolean | null;
  unsafeFixes: boolean | null;
  /** Absolute. */
  cacheDir: string | null;
  /** Selectors of the rules whose fixes count (null: every rule). */
  fixable: string[] | null;
  extendFixable: string[];
  unfixable: string[];
}

/** What a value check can use: the folder relative paths are resolved against, and how to fail. */
export interface ParseContext {
  /** The folder of the file that holds the value (the working folder for --config "key = value"). */
  dir: string;
  /** Stop with a ConfigError naming the file, line and key (`path` below this option's key). */
  fail(what: string, path?: string[]): never;
  /** Stop: an unknown key in a table of this option, with the closest known one. */
  unknownKey(key: string, known: readonly string[]): never;
}

export interface ConfigOption {
  key: string;
  /** Where the value goes; none for keys that only check or point elsewhere (required-version, extend). */
  field?: keyof OptionFields;
  /** The type as the docs name it. */
  type: string;
  /** The field's value when the key is absent. */
  default: OptionFields[keyof OptionFields] | undefined;
  /** The default as the docs say it. */
  defaultText: string;
  /** How a value combines with an extended file's, with --config "key = value" and with the command line. */
  merge: string;
  /** Command-line options that set or override it. */
  cli?: string[];
  docs: string;
  /** TOML, as written under [tool.mps-lint]. */
  example: string;
  /** JSON schema of the value. */
  schema: Record<string, unknown>;
  /** Check `value` and return the field's value. */
  parse(value: unknown, ctx: ParseContext): unknown;
  /** The field's value as --show-settings prints it. */
  show?(value: unknown): string;
}

// ---- value checks ------------------------------------------------------------------------------

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function describeValue(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (isTable(v)) return "a table";
  if (v instanceof Date) return "a date";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function matchesSelector(code: string, name: string, sel: string): boolean {
  const s = sel.trim().toUpperCase();
  return s === "ALL" || code.startsWith(s) || name.toUpperCase() === s;
}

export function isKnownSelector(sel: string): boolean {
  return RULES.some((r) => matchesSelector(r.meta.code, r.meta.name, sel));
}

const KNOWN_CODES = () => RULES.map((r) => r.meta.code).join(", ");

function strings(what: string) {
  return (v: unknown, ctx: ParseContext, sub: string[] = []): string[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) ctx.fail(`expected ${what}, got ${describeValue(v)}`, sub);
    return v as string[];
  };
}

function selectors(v: unknown, ctx: ParseContext, sub: string[] = []): string[] {
  const list = strings("a list of rule codes or prefixes")(v, ctx, sub);
  for (const s of list) if (!isKnownSelector(s)) ctx.fail(`unknown rule selector "${s}" (known: ${KNOWN_CODES()})`, sub);
  return list;
}

function perFileTable(v: unknown, ctx: ParseContext): PerFileIgnore[] {
  if (!isTable(v)) ctx.fail(`expected a table of glob = [rule codes], e.g. "tests/**" = ["MPS002"], got ${describeValue(v)}`);
  return Object.entries(v).map(([pattern, codes]) => ({ pattern, codes: selectors(codes, ctx, [pattern]) }));
}

function bool(v: unknown, ctx: ParseContext): boolean {
  if (typeof v !== "boolean") ctx.fail(`expected true or false, got ${describeValue(v)}`);
  return v;
}

const VERSION = /^\d+(\.\d+){0,2}([a-z+.-][\w.+-]*)?$/i;

function version(v: unknown, ctx: ParseContext): string {
  if (typeof v !== "string" || !VERSION.test(v)) ctx.fail(`expected a PyTorch version string, e.g. "2.5" or "2.5.1", got ${describeValue(v)}`);
  return v;
}

/** Does `version` meet `req` (comma-separated clauses: >=, <=, >, <, ==, != or a bare version)? null: unreadable. */
export function satisfiesVersion(version: string, req: string): boolean | null {
  const parts = (v: string) => v.split(".").map(Number);
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = (a[i] ?? 0) - (b[i] ?? 0);
      if (d !== 0) return Math.sign(d);
    }
    return 0;
  };
  const have = parts(version.split(/[-+]/)[0]);
  let ok = true;
  for (const clause of req.split(",")) {
    const m = /^\s*(>=|<=|==|!=|>|<|~=)?\s*v?(\d+(?:\.\d+)*)\s*$/.exec(clause);
    if (!m) return null;
    const c = cmp(have, parts(m[2]));
    const op = m[1] ?? "==";
    const pass = op === ">=" ? c >= 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : op === "<" ? c < 0 : op === "!=" ? c !== 0 : op === "~=" ? c >= 0 : c === 0;
    ok &&= pass;
  }
  return ok;
}


/** The closest known key, when close enough to be a typo (or the same key in another spelling). */
export function didYouMean(key: string, known: readonly string[]): string | null {
  const norm = (k: string) => k.toLowerCase().replace(/_/g, "-");
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = norm(key) === norm(k) ? 0 : distance(norm(key), norm(k));
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

const VERIFY_KEYS: Record<string, string> = {
  python: "a path to a Python interpreter (string)",
  entry: 'a string: "app.py args", "-m pkg.mod" or "pkg.mod:main"',
  timeout: "a positive number of seconds",
  device: `one of ${VERIFY_DEVICES.map((d) => `"${d}"`).join(", ")}`,
};

const json = (v: unknown) => JSON.stringify(v);
const list = (v: unknown) => `[${(v as string[]).map(json).join(", ")}]`;
const table = (entries: [string, string][]) => `{${entries.map(([k, v]) => ` ${json(k)} = ${v}`).join(",")}${entries.length ? " " : ""}}`;
const pfi = (v: unknown) => table((v as PerFileIgnore[]).map((p) => [p.pattern, list(p.codes)]));
const orUnset = (text: string) => (v: unknown) => (v === null || v === undefined ? text : typeof v === "string" ? json(v) : Array.isArray(v) ? list(v) : String(v));

const SELECTOR_SCHEMA = { type: "array", items: { type: "string", pattern: "^([A-Za-z]+[0-9]*|[a-z][a-z-]*|ALL)$" } };
const PFI_SCHEMA = { type: "object", additionalProperties: SELECTOR_SCHEMA };
const LAYER = "a selection layer (Ruff's): over an extended file's layer, under the command line's (--select replaces, --extend-select adds, --ignore removes)";
const REPLACES = "replaces an extended file's value; --config \"key = value\" replaces this file's";

// ---- the table ---------------------------------------------------------------------------------

export const OPTIONS: readonly ConfigOption[] = [
  {
    key: "select", field: "select", type: "list of rule selectors", default: null, defaultText: "every rule that is not opt-in",
    merge: LAYER, cli: ["--select"],
    docs: "The rules to enable: codes (`MPS001`), prefixes (`MPS0`), names (`device-sync-in-thread`) or `ALL`. Replaces the default set.",
    example: 'select = ["MPS"]', schema: SELECTOR_SCHEMA, parse: (v, ctx) => selectors(v, ctx), show: orUnset("(default)"),
  },
  {
    key: "extend-select", field: "extendSelect", type: "list of rule selectors", default: [], defaultText: "[]",
    merge: LAYER, cli: ["--extend-select"],
    docs: "Rules to enable in addition to the selection, opt-in rules (`MPS100`) too.",
    example: 'extend-select = ["MPS100"]', schema: SELECTOR_SCHEMA, parse: (v, ctx) => selectors(v, ctx), show: list,
  },
  {
    key: "ignore", field: "ignore", type: "list of rule selectors", default: [], defaultText: "[]",
    merge: LAYER, cli: ["--ignore"],
    docs: "Rules to disable.",
    example: 'ignore = ["MPS003"]', schema: SELECTOR_SCHEMA, parse: (v, ctx) => selectors(v, ctx), show: list,
  },
  {
    key: "per-file-ignores", field: "perFileIgnores", type: "table of glob = list of rule selectors", default: [], defaultText: "{}",
    merge: `${REPLACES}; --per-file-ignores replaces it, extend-per-file-ignores and --extend-per-file-ignores add`, cli: ["--per-file-ignores"],
    docs: "Rules off for the files a glob matches: a glob with `/` matches the path from this file's folder, one without the file name; `!glob` negates.",
    example: 'per-file-ignores = { "tests/**" = ["MPS002"], "__init__.py" = ["MPS0"] }', schema: PFI_SCHEMA, parse: perFileTable, show: pfi,
  },
  {
    key: "extend-per-file-ignores", field: "extendPerFileIgnores", type: "table of glob = list of rule selectors", default: [], defaultText: "{}",
    merge: "added to per-file-ignores, and to an extended file's extend-per-file-ignores", cli: ["--extend-per-file-ignores"],
    docs: "Per-file ignores in addition to `per-file-ignores`.",
    example: 'extend-per-file-ignores = { "legacy/**" = ["MPS001"] }', schema: PFI_SCHEMA, parse: perFileTable, show: pfi,
  },
  {
    key: "exclude", field: "exclude", type: "list of gitignore-style patterns", default: [], defaultText: "[]",
    merge: `${REPLACES}; --exclude replaces it`, cli: ["--exclude"],
    docs: "Files and folders folder walks skip, in addition to the built-in skips (`.venv`, `build`, `node_modules`, ...). Files named on the command line are linted anyway unless `--force-exclude`.",
    example: 'exclude = ["generated/"]', schema: { type: "array", items: { type: "string" } }, parse: strings("a list of gitignore-style patterns"), show: list,
  },
  {
    key: "extend-exclude", field: "extendExclude", type: "list of gitignore-style patterns", default: [], defaultText: "[]",
    merge: `${REPLACES}; --extend-exclude adds`, cli: ["--extend-exclude"],
    docs: "Patterns skipped in addition to `exclude`.",
    example: 'extend-exclude = ["*_pb2.py"]', schema: { type: "array", items: { type: "string" } }, parse: strings("a list of gitignore-style patterns"), show: list,
  },
  {
    key: "include", field: "include", type: "list of globs", default: null, defaultText: "every .py, .pyi and .ipynb file",
    merge: REPLACES,
    docs: "What folder walks lint: a glob with `/` matches the path from this file's folder, one without the file name.",
    example: 'include = ["*.py", "scripts/*.pyw"]', schema: { type: "array", items: { type: "string" } },
    parse: strings('a list of globs of the files to lint, e.g. ["*.py", "scripts/*.pyw"]'), show: orUnset("(default)"),
  },
  {
    key: "respect-gitignore", field: "respectGitignore", type: "bool", default: true, defaultText: "true",
    merge: `${REPLACES}; --[no-]respect-gitignore wins`, cli: ["--respect-gitignore", "--no-respect-gitignore"],
    docs: "Skip what `.gitignore` files (and `.git/info/exclude`) ignore.",
    example: "respect-gitignore = false", schema: { type: "boolean" }, parse: bool, show: String,
  },
  {
    key: "src", field: "src", type: "list of folders", default: [], defaultText: "[] (the working folder and the folders linted)",
    merge: REPLACES,
    docs: "Import roots, for resolving imports between your modules (relative to this file's folder). The `src` of every configuration file in force is used.",
    example: 'src = ["src"]', schema: { type: "array", items: { type: "string" } },
    parse: (v, ctx) => strings("a list of folders (import roots)")(v, ctx).map((s) => path.resolve(ctx.dir, s)), show: list,
  },
  {
    key: "thread-entry-points", field: "threadEntryPoints", type: "list of qualified names", default: [], defaultText: "[]",
    merge: REPLACES,
    docs: "Functions that run on threads although no `Thread()` in the code starts them (a server's sync request handlers), or decorators whose functions do. Those of every configuration file in force are used.",
    example: 'thread-entry-points = ["app.handlers.predict", "app.web.route"]', schema: { type: "array", items: { type: "string", pattern: "^[A-Za-z_]\\w*(\\.[A-Za-z_]\\w*)*$" } },
    parse: (v: unknown, ctx: ParseContext) => {
      const what = 'a list of qualified names, e.g. "app.handlers.handle"';
      const names = strings(what)(v, ctx);
      for (const ep of names) if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(ep)) ctx.fail(`expected ${what}, got ${JSON.stringify(ep)}`);
      return names;
    },
    show: list,
  },
  {
    key: "torch-version", field: "torchVersion", type: "string (a version)", default: null, defaultText: "unset (MPS008 does not run)",
    merge: REPLACES,
    docs: "The PyTorch version the code targets. MPS008 runs only when it is set. The working folder's setting is used, else the first one found.",
    example: 'torch-version = "2.5.1"', schema: { type: "string", pattern: VERSION.source }, parse: version, show: orUnset("(not set)"),
  },
  {
    key: "mps-per-thread-streams-version", field: "mpsPerThreadStreamsVersion", type: "string (a version)", default: null, defaultText: '"2.16"',
    merge: REPLACES,
    docs: "The first PyTorch version with per-thread MPS streams: MPS008 reports MPS work on several threads when `torch-version` is lower. Taken from the settings where `torch-version` is.",
    example: 'mps-per-thread-streams-version = "2.16"', schema: { type: "string", pattern: VERSION.source }, parse: version, show: orUnset('(default: "2.16")'),
  },
  {
    key: "severity", field: "severity", type: 'table of rule code = "error" | "warning" | "info"', default: {}, defaultText: "each rule's own",
    merge: REPLACES,
    docs: "The severity each rule's findings are reported with (and so `--errors-only`, `--max-warnings` and the summary).",
    example: 'severity = { MPS002 = "error" }',
    schema: { type: "object", additionalProperties: { enum: ["error", "warning", "info"] } },
    parse: (v: unknown, ctx: ParseContext) => {
      if (!isTable(v)) ctx.fail(`expected a table of rule code = "error" | "warning" | "info", got ${describeValue(v)}`);
      const out: Record<string, Severity> = {};
      for (const [code, level] of Object.entries(v)) {
        const rules = RULES.filter((r) => r.meta.code === code.toUpperCase() || r.meta.name === code);
        if (rules.length === 0) ctx.fail(`unknown rule code "${code}"`, [code]);
        if (level !== "error" && level !== "warning" && level !== "info") ctx.fail(`expected "error", "warning" or "info", got ${describeValue(level)}`, [code]);
        for (const r of rules) out[r.meta.code] = level;
      }
      return out;
    },
    show: (v) => table(Object.entries(v as Record<string, string>).map(([k, s]) => [k, json(s)])).replace(/"(MPS\d+)"/g, "$1"),
  },
  {
    key: "verify", field: "verify", type: "table: python, entry, timeout, device", default: {}, defaultText: "{}",
    merge: REPLACES,
    docs: "Settings for `--verify`: `python` (an interpreter with torch; a relative path with `/` is resolved against this file's folder), `entry` (what to run instead of each file: `\"app.py args\"`, `\"-m pkg.mod\"`, `\"pkg.mod:main\"`), `timeout` (seconds per run), `device` (auto, mps, cuda, xpu, cpu). The working folder's settings are used.",
    example: 'verify = { python = ".venv/bin/python", entry = "-m app.serve", timeout = 60, device = "auto" }',
    schema: {
      type: "object",
      additionalProperties: false,
      properties: {
        python: { type: "string", minLength: 1 },
        entry: { type: "string", minLength: 1 },
        timeout: { type: "number", exclusiveMinimum: 0 },
        device: { enum: [...VERIFY_DEVICES] },
      },
    },
    parse: (v: unknown, ctx: ParseContext) => {
      if (!isTable(v)) ctx.fail(`expected a table with keys python, entry, timeout, device, got ${describeValue(v)}`);
      const out: VerifySettings = {};
      for (const [k, val] of Object.entries(v)) {
        if (!(k in VERIFY_KEYS)) ctx.unknownKey(k, Object.keys(VERIFY_KEYS));
        const bad = () => ctx.fail(`expected ${VERIFY_KEYS[k]}, got ${describeValue(val)}`, [k]);
        if (k === "timeout") {
          if (typeof val !== "number" || !(val > 0) || !Number.isFinite(val)) bad();
          out.timeout = val as number;
        } else if (k === "device") {
          if (typeof val !== "string" || !(VERIFY_DEVICES as readonly string[]).includes(val)) bad();
          out.device = val as VerifyDevice;
        } else {
          if (typeof val !== "string" || val === "") bad();
          out[k as "python" | "entry"] = val as string;
        }
      }
      if (out.python && !path.isAbsolute(out.python) && out.python.includes("/")) out.python = path.resolve(ctx.dir, out.python);
      return out;
    },
    show: (v) => table(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, json(x)])).replace(/"(python|entry|timeout|device)" =/g, "$1 ="),
  },
  {
    key: "output-format", field: "outputFormat", type: "string (a format)", default: null, defaultText: "full on a terminal, else stylish",
    merge: `${REPLACES}; -f/--output-format wins`, cli: ["--output-format"],
    docs: `The report's format: ${FORMATS.join(", ")}. Read from the settings of the working folder.`,
    example: 'output-format = "concise"', schema: { enum: [...FORMATS] },
    parse: (v: unknown, ctx: ParseContext) => {
      if (typeof v !== "string" || !(FORMATS as readonly string[]).includes(v)) {
        const guess = typeof v === "string" ? didYouMean(v, FORMATS) : null;
        ctx.fail(`expected one of ${FORMATS.join(", ")}, got ${describeValue(v)}${guess ? `; did you mean "${guess}"?` : ""}`);
      }
      return v;
    },
    show: orUnset("(default)"),
  },
  {
    key: "fix", field: "fix", type: "bool", default: null, defaultText: "false",
    merge: `${REPLACES}; --fix / --no-fix win`, cli: ["--fix", "--no-fix"],
    docs: "Apply safe fixes on every run, as `--fix`. Read from the settings of the working folder.",
    example: "fix = true", schema: { type: "boolean" }, parse: bool, show: orUnset("false"),
  },
  {
    key: "unsafe-fixes", field: "unsafeFixes", type: "bool", default: null, defaultText: "false",
    merge: `${REPLACES}; --unsafe-fixes / --no-unsafe-fixes win`, cli: ["--unsafe-fixes", "--no-unsafe-fixes"],
    docs: "Count fixes that may change behaviour as available (and apply them with `--fix`), as `--unsafe-fixes`. Read from the settings of the working folder.",
    example: "unsafe-fixes = true", schema: { type: "boolean" }, parse: bool, show: orUnset("false"),
  },
  {
    key: "fixable", field: "fixable", type: "list of rule selectors", default: null, defaultText: "every rule",
    merge: `${REPLACES}; --fixable replaces it`, cli: ["--fixable"],
    docs: "The rules whose fixes are applied or offered; the findings of others carry no fix.",
    example: 'fixable = ["MPS004", "MPS005"]', schema: SELECTOR_SCHEMA, parse: (v, ctx) => selectors(v, ctx), show: orUnset("(every rule)"),
  },
  {
    key: "extend-fixable", field: "extendFixable", type: "list of rule selectors", default: [], defaultText: "[]",
    merge: `${REPLACES}; --extend-fixable adds`, cli: ["--extend-fixable"],
    docs: "Rules fixable in addition to `fixable`.",
    example: 'extend-fixable = ["MPS001"]', schema: SELECTOR_SCHEMA, parse: (v, ctx) => selectors(v, ctx), show: list,
  },
  {
    key: "unfixable", field: "unfixable", type: "list of rule selectors", default: [], defaultText: "[]",
    merge: `${REPLACES}; --unfixable adds`, cli: ["--unfixable"],
    docs: "Rules whose fixes are never applied or offered, whatever `fixable` says.",
    example: 'unfixable = ["MPS001"]', schema: SELECTOR_SCHEMA, parse: (v, ctx) => selectors(v, ctx), show: list,
  },
  {
    key: "cache-dir", field: "cacheDir", type: "string (a folder)", default: null, defaultText: ".mps_lint_cache at the project root",
    merge: `${REPLACES}; --cache-dir wins`, cli: ["--cache-dir"],
    docs: "Where the cache lives (relative to this file's folder). Read from the settings of the working folder.",
    example: 'cache-dir = ".cache/mps-lint"', schema: { type: "string", minLength: 1 },
    parse: (v: unknown, ctx: ParseContext) => {
      if (typeof v !== "string" || v === "") ctx.fail(`expected a folder (string), got ${describeValue(v)}`);
      return path.resolve(ctx.dir, v);
    },
    show: orUnset("(default)"),
  },
  {
    key: "extend", type: "string (a path)", default: undefined, defaultText: "unset",
    merge: "the named file's settings are the base; this file's keys replace its values (paths in each file stay relative to that file); a loop is an error",
    docs: "Start from another configuration file's settings (a path relative to this file; `~/` is the home folder).",
    example: 'extend = "../shared/mps-lint.toml"', schema: { type: "string", minLength: 1 },
    parse: (v: unknown, ctx: ParseContext) => {
      if (typeof v !== "string" || v === "") ctx.fail(`expected a path to another configuration file whose settings this one extends, got ${describeValue(v)}`);
      return v;
    },
  },
  {
    key: "required-version", type: "string (a version requirement)", default: undefined, defaultText: "unset",
    merge: "checked in each file that has it",
    docs: "Stop (exit 2) when this mps-lint does not satisfy the requirement: comma-separated clauses of `>=`, `<=`, `>`, `<`, `==`, `!=` or a bare version.",
    example: 'required-version = ">=0.1"', schema: { type: "string" },
    parse: (v: unknown, ctx: ParseContext) => {
      const what = 'a version requirement on mps-lint, e.g. ">=0.1" or "==0.1.0"';
      if (typeof v !== "string") ctx.fail(`expected ${what}, got ${describeValue(v)}`);
      const verdict = satisfiesVersion(packageVersion(), v);
      if (verdict === null) ctx.fail(`expected ${what}, got ${JSON.stringify(v)}`);
      if (!verdict) ctx.fail(`this is mps-lint ${packageVersion()}, which does not satisfy ${JSON.stringify(v)}`);
      return v;
    },
  },
];

export const OPTION_KEYS: readonly string[] = OPTIONS.map((o) => o.key);
export const OPTION_BY_KEY: ReadonlyMap<string, ConfigOption> = new Map(OPTIONS.map((o) => [o.key, o]));

/** A fresh copy of every field's default. */
export function defaultFields(): OptionFields {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) if (o.field) out[o.field] = structuredClone(o.default);
  return out as unknown as OptionFields;
}
