// Settings: `[tool.mps-lint]` in pyproject.toml, or `mps-lint.toml` / `.mps-lint.toml`, found as
// Ruff finds its configuration: the closest file above each linted file wins (no merging between
// files), `--config FILE` uses one file for everything, `--isolated` uses none. Command-line
// selections are a layer on top of whichever file applies.

import { closeSync, constants as fsConstants, existsSync, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ignore, { type Ignore } from "ignore";
import picomatch from "picomatch";
import { parse as parseToml, TomlError } from "smol-toml";
import { RULES } from "../../rules/index.js";
import type { Rule } from "../engine/rule.js";
import type { CliOptions } from "./cli-options.js";
import { defaultFields, describeValue, didYouMean, isKnownSelector, OPTION_BY_KEY, OPTION_KEYS, OPTIONS, type OptionFields, type ParseContext } from "./options.js";

export { didYouMean, isKnownSelector, satisfiesVersion, VERIFY_DEVICES, type PerFileIgnore, type VerifyDevice, type VerifySettings } from "./options.js";

/** A configuration file that cannot be used: exit 2, naming the file, line and key. */
export class ConfigError extends Error {}

/** In the order Ruff uses within one folder: the dot-file first, pyproject.toml last. */
export const CONFIG_FILES = [".mps-lint.toml", "mps-lint.toml", "pyproject.toml"] as const;

/** One layer of rule selection (a config file, or the command line), as Ruff layers them. */
export interface Selection {
  select?: string[];
  extendSelect?: string[];
  ignore?: string[];
}

/** The settings in force for a file: every option's field (src/config/options.ts), the rules, where they came from. */
export interface Settings extends Omit<OptionFields, "extendPerFileIgnores"> {
  /** The configuration file in force; null when none was found or --isolated. */
  configFile: string | null;
  /** Folder that relative settings (globs, src) are resolved against: the file's folder, or cwd. */
  root: string;
  /** Rules enabled by the selections (before per-file-ignores). */
  rules: Rule[];
}

export interface ConfigOptions {
  cwd: string;
  /** --config FILE: this file for every linted file. */
  configFile?: string;
  /** --isolated: no configuration file at all. */
  isolated?: boolean;
  /** The command line's layer: selections, file selection, fixability, and --config "key = value" settings. */
  cli?: CliLayer;
}

/** What the command line sets over every configuration file (Ruff's CLI overrides): the options of these names. */
export interface CliLayer
  extends Selection,
    Pick<CliOptions, "perFileIgnores" | "extendPerFileIgnores" | "exclude" | "extendExclude" | "respectGitignore" | "fixable" | "unfixable" | "extendFixable"> {
  /** --config "key = value": TOML settings, applied over each file's as if written in it. */
  overrides?: string[];
}

/** The command line's layer from its options. */
export function cliLayer(opts: CliOptions): CliLayer {
  return {
    select: opts.select,
    ignore: opts.ignore,
    extendSelect: opts.extendSelect,
    perFileIgnores: opts.perFileIgnores,
    extendPerFileIgnores: opts.extendPerFileIgnores,
    exclude: opts.exclude,
    extendExclude: opts.extendExclude,
    respectGitignore: opts.respectGitignore,
    fixable: opts.fixable,
    unfixable: opts.unfixable,
    extendFixable: opts.extendFixable,
    overrides: opts.configOverrides,
  };
}

// ---- rule selection ----------------------------------------------------------------------------

function matchesSelector(rule: Rule, sel: string): boolean {
  const s = sel.trim().toUpperCase();
  return s === "ALL" || rule.meta.code.startsWith(s) || rule.meta.name.toUpperCase() === s;
}

function checkSelectors(sels: string[] | undefined, where: (s: string) => string): void {
  for (const s of sels ?? []) {
    if (!isKnownSelector(s)) throw new ConfigError(`${where(s)}unknown rule selector "${s}" (known: ${RULES.map((r) => r.meta.code).join(", ")})`);
  }
}

/**
 * Ruff's layering: start from the default rules; in each layer a `select` replaces the set,
 * then `extend-select` adds and `ignore` removes. Opt-in rules come only when selected.
 */
export function resolveRules(layers: Selection[]): Rule[] {
  let chosen = RULES.filter((r) => !r.meta.optIn);
  for (const l of layers) {
    if (l.select) chosen = RULES.filter((r) => l.select!.some((s) => matchesSelector(r, s)));
    if (l.extendSelect) chosen = RULES.filter((r) => chosen.includes(r) || l.extendSelect!.some((s) => matchesSelector(r, s)));
    if (l.ignore) chosen = chosen.filter((r) => !l.ignore!.some((s) => matchesSelector(r, s)));
  }
  return chosen;
}

/** Throws ConfigError for selectors that name no rule (command line). */
export function checkCliSelection(cli: CliLayer | undefined): void {
  checkSelectors(cli?.select, () => "--select: ");
  checkSelectors(cli?.extendSelect, () => "--extend-select: ");
  checkSelectors(cli?.ignore, () => "--ignore: ");
  checkSelectors(cli?.fixable, () => "--fixable: ");
  checkSelectors(cli?.unfixable, () => "--unfixable: ");
  checkSelectors(cli?.extendFixable, () => "--extend-fixable: ");
  for (const p of cli?.perFileIgnores ?? []) checkSelectors(p.codes, () => `--per-file-ignores ${p.pattern}: `);
  for (const p of cli?.extendPerFileIgnores ?? []) checkSelectors(p.codes, () => `--extend-per-file-ignores ${p.pattern}: `);
}

// ---- loading and validating one file -----------------------------------------------------------

interface Raw {
  file: string;
  /** Named so in messages instead of `file` (the command line's settings). */
  display?: string;
  text: string;
  /** Key path of the table holding our settings: ["tool", "mps-lint"] or []. */
  prefix: string[];
  table: Record<string, unknown>;
}

/** The line a key is written on (best effort: TOML parsers keep no positions). */
function keyLine(raw: Raw, keyPath: string[]): number | null {
  const lines = raw.text.split(/\r\n|\n|\r/);
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const last = keyPath[keyPath.length - 1] ?? "";
  const keyRe = new RegExp(`(^\\s*|[{,.]\\s*)["']?${esc(last)}["']?\\s*=`);
  const header = (t: string[]) => new RegExp(`^\\s*\\[\\s*${t.map((k) => `["']?${esc(k)}["']?`).join("\\s*\\.\\s*")}\\s*\\]`);
  let headerLine: number | null = null;
  for (const table of [[...raw.prefix, ...keyPath.slice(0, -1)], raw.prefix]) {
    let start = 0;
    if (table.length > 0) {
      start = lines.findIndex((l) => header(table).test(l));
      if (start < 0) continue;
      headerLine ??= start + 1;
      start++;
    }
    if (keyPath.length === 0) return headerLine;
    for (let i = start; i < lines.length && !/^\s*\[/.test(lines[i]); i++) if (keyRe.test(lines[i])) return i + 1;
  }
  if (keyPath.length > 0) for (let i = 0; i < lines.length; i++) if (keyRe.test(lines[i])) return i + 1;
  return headerLine;
}

function fail(raw: Raw, keyPath: string[], what: string): never {
  const line = raw.display ? null : keyLine(raw, keyPath);
  const where = `${raw.display ?? raw.file}${line ? `:${line}` : ""}`;
  const key = [...raw.prefix, ...keyPath].join(".");
  throw new ConfigError(`${where}: ${key}: ${what}`);
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Larger than any real configuration file; a bigger one is refused before it is read. */
export const MAX_CONFIG_BYTES = 1 << 20;

function unknownKey(raw: Raw, keyPath: string[], known: readonly string[]): never {
  const key = keyPath[keyPath.length - 1];
  const guess = didYouMean(key, known);
  fail(raw, keyPath, `unknown key${guess ? `; did you mean "${guess}"?` : ""} (known: ${known.join(", ")})`);
}

/**
 * A configuration file's text. Opened without blocking and checked on the open descriptor, so a
 * FIFO or a device (a link to /dev/zero) is refused instead of hanging the run.
 */
function readConfigText(file: string): string {
  const fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(`${file}: not a regular file`);
    if (st.size > MAX_CONFIG_BYTES) throw new ConfigError(`${file}: ${st.size} bytes; a configuration file is at most ${MAX_CONFIG_BYTES} bytes`);
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

function readRaw(file: string): Raw | null {
  let text: string;
  try {
    text = readConfigText(file);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) throw new ConfigError(`${file}:${e.line}:${e.column}: invalid TOML: ${e.message.split("\n")[0]}`);
    throw e;
  }
  if (path.basename(file) === "pyproject.toml") {
    const tool = doc.tool;
    if (!isTable(tool) || !("mps-lint" in tool)) return null;
    const table = tool["mps-lint"];
    const raw: Raw = { file, text, prefix: ["tool", "mps-lint"], table: {} };
    if (!isTable(table)) fail(raw, [], `expected a table, got ${describeValue(table)}`);
    raw.table = table;
    return raw;
  }
  return { file, text, prefix: [], table: doc };
}

/** The settings one configuration file gives (before the command line's layer). */
interface FileSettings extends OptionFields {
  selection: Selection;
  /** Selection layers of extended files, outermost base first. */
  baseSelections: Selection[];
}

/**
 * One file's settings: each key checked and read by its entry in the option table
 * (src/config/options.ts); absent keys keep the table's defaults.
 */
function validate(raw: Raw, displayName?: string): FileSettings {
  if (displayName) raw = { ...raw, display: displayName };
  const dir = path.dirname(raw.file);
  const t = raw.table;
  const out: FileSettings = { ...defaultFields(), selection: {}, baseSelections: [] };
  for (const [key, value] of Object.entries(t)) {
    const option = OPTION_BY_KEY.get(key);
    if (!option) unknownKey(raw, [key], OPTION_KEYS);
    const ctx: ParseContext = {
      dir,
      fail: (what, sub = []) => fail(raw, [key, ...sub], what),
      unknownKey: (k, known) => unknownKey(raw, [key, k], known),
    };
    const parsed = option.parse(value, ctx);
    if (option.field) (out as unknown as Record<string, unknown>)[option.field] = parsed;
  }
  out.selection = {
    select: "select" in t ? (out.select ?? undefined) : undefined,
    extendSelect: "extend-select" in t ? out.extendSelect : undefined,
    ignore: "ignore" in t ? out.ignore : undefined,
  };
  return out;
}

const DEFAULTS: FileSettings = { ...defaultFields(), selection: {}, baseSelections: [] };

/** The settings field each key sets (the option table's): a key given in a layer replaces the layer below's value. */
const FIELD: Record<string, (keyof FileSettings)[]> = Object.fromEntries(OPTIONS.filter((o) => o.field && o.key !== "extend-per-file-ignores").map((o) => [o.key, [o.field!]]));

/** `base` with the fields of the keys `given` in `own` taken from `own`. */
function overKeys(base: FileSettings, own: FileSettings, given: readonly string[]): FileSettings {
  const merged = { ...base } as FileSettings;
  for (const key of given) for (const f of FIELD[key] ?? []) (merged as unknown as Record<string, unknown>)[f] = own[f];
  return merged;
}

/** --config "key = value" settings, read and checked as a configuration file would be (paths against cwd). */
function readOverrides(texts: readonly string[], cwd: string): { settings: FileSettings; keys: string[] } | null {
  if (texts.length === 0) return null;
  const table: Record<string, unknown> = {};
  for (const text of texts) {
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof TomlError) throw new ConfigError(`--config ${JSON.stringify(text)}: not a file, and not a setting in TOML (${e.message.split("\n")[0]})`);
      throw e;
    }
    Object.assign(table, doc);
  }
  if ("extend" in table) throw new ConfigError(`--config: extend cannot be given on the command line; use --config FILE`);
  const raw: Raw = { file: path.join(cwd, "--config"), text: "", prefix: [], table };
  return { settings: validate(raw, "--config"), keys: Object.keys(table) };
}

/**
 * `extend`: the settings of the file named (itself possibly extending another), with this
 * file's keys in place of the base's; extend-per-file-ignores adds to per-file-ignores. Paths in
 * each file are resolved against that file's folder.
 */
function loadExtending(raw: Raw, seen: string[] = []): FileSettings {
  const own = validate(raw);
  let merged = own;
  if ("extend" in raw.table) {
    const target = raw.table.extend as string;
    const file = path.resolve(path.dirname(raw.file), target.replace(/^~(?=\/)/, process.env.HOME ?? "~"));
    if ([raw.file, ...seen].includes(file)) fail(raw, ["extend"], `extends itself through ${[...seen, raw.file, file].join(" -> ")}`);
    if (!existsSync(file)) fail(raw, ["extend"], `${target}: no such file`);
    const baseRaw = readRaw(file);
    if (!baseRaw) fail(raw, ["extend"], `${target} has no [tool.mps-lint] table`);
    const base = loadExtending(baseRaw, [...seen, raw.file]);
    merged = overKeys(base, own, Object.keys(raw.table));
    // A selection layer each, the base's first (Ruff layers an extended file under the extending one).
    merged.selection = own.selection;
    merged.baseSelections = [...base.baseSelections, base.selection];
    merged.extendPerFileIgnores = [...base.extendPerFileIgnores, ...own.extendPerFileIgnores];
  }
  return merged;
}

// ---- resolution per folder ----------------------------------------------------------------------

/** Finds and caches the settings for each folder, as Ruff: the closest configuration file wins. */
export class ConfigResolver {
  private readonly byDir = new Map<string, Settings>();
  private readonly byFile = new Map<string, Settings>();
  private readonly fixed: Settings | null = null;
  private readonly cli: CliLayer;
  private readonly overrides: { settings: FileSettings; keys: string[] } | null;

  constructor(private readonly options: ConfigOptions) {
    this.cli = options.cli ?? {};
    checkCliSelection(this.cli);
    this.overrides = readOverrides(this.cli.overrides ?? [], options.cwd);
    if (options.configFile) {
      const file = path.resolve(options.cwd, options.configFile);
      if (!existsSync(file)) throw new ConfigError(`${options.configFile}: configuration file not found`);
      const raw = readRaw(file);
      if (!raw) throw new ConfigError(`${options.configFile}: has no [tool.mps-lint] table`);
      this.fixed = this.build(file, loadExtending(raw));
    } else if (options.isolated) {
      this.fixed = this.build(null, DEFAULTS);
    }
  }

  /** Settings for a linted file (or a folder's contents). */
  forPath(p: string): Settings {
    const abs = path.resolve(this.options.cwd, p);
    let dir = abs;
    try {
      if (!statSync(abs).isDirectory()) dir = path.dirname(abs);
    } catch {
      dir = path.dirname(abs);
    }
    return this.forDir(dir);
  }

  forDir(dir: string): Settings {
    if (this.fixed) return this.fixed;
    const cached = this.byDir.get(dir);
    if (cached) return cached;
    let found: Settings | null = null;
    for (const name of CONFIG_FILES) {
      const file = path.join(dir, name);
      if (!existsSync(file)) continue;
      const raw = readRaw(file);
      if (!raw) continue; // a pyproject.toml without [tool.mps-lint]
      found = this.byFile.get(file) ?? this.build(file, loadExtending(raw));
      this.byFile.set(file, found);
      break;
    }
    if (!found) {
      const up = path.dirname(dir);
      found = up === dir ? this.build(null, DEFAULTS) : this.forDir(up);
    }
    this.byDir.set(dir, found);
    return found;
  }

  /** Every distinct Settings resolved so far. */
  all(): Settings[] {
    return [...new Set([...(this.fixed ? [this.fixed] : []), ...this.byDir.values()])];
  }

  private build(file: string | null, loaded: FileSettings): Settings {
    const cli = this.cli;
    // --config "key = value": as if written in the file (its selection is a layer over the file's).
    let fs = loaded;
    const layers: Selection[] = [...fs.baseSelections, fs.selection];
    if (this.overrides) {
      const { settings: o, keys } = this.overrides;
      fs = overKeys(fs, o, keys);
      fs.extendPerFileIgnores = [...loaded.extendPerFileIgnores, ...o.extendPerFileIgnores];
      // A selection key given replaces the file's (the file's layer, not a layer over it).
      const own = { ...fs.selection };
      if (keys.includes("select")) own.select = o.selection.select;
      if (keys.includes("extend-select")) own.extendSelect = o.selection.extendSelect;
      if (keys.includes("ignore")) own.ignore = o.selection.ignore;
      layers[layers.length - 1] = own;
    }
    const rules = resolveRules([...layers, cli]);
    const { selection: _selection, baseSelections: _bases, extendPerFileIgnores, ...settings } = fs;
    return {
      ...settings,
      perFileIgnores: [...(cli.perFileIgnores ?? fs.perFileIgnores), ...extendPerFileIgnores, ...(cli.extendPerFileIgnores ?? [])],
      exclude: cli.exclude ?? fs.exclude,
      extendExclude: [...fs.extendExclude, ...(cli.extendExclude ?? [])],
      respectGitignore: cli.respectGitignore ?? fs.respectGitignore,
      fixable: cli.fixable ?? fs.fixable,
      extendFixable: [...fs.extendFixable, ...(cli.extendFixable ?? [])],
      unfixable: [...fs.unfixable, ...(cli.unfixable ?? [])],
      configFile: file,
      root: file ? path.dirname(file) : this.options.cwd,
      rules,
      // The effective selection, for --show-settings.
      select: cli.select ?? fs.select,
      extendSelect: [...fs.extendSelect, ...(cli.extendSelect ?? [])],
      ignore: cli.select ? [...(cli.ignore ?? [])] : [...fs.ignore, ...(cli.ignore ?? [])],
    };
  }
}

// ---- applying settings to files -------------------------------------------------------------------

function rel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}

const excludeCache = new WeakMap<Settings, Ignore>();

const includeCache = new WeakMap<Settings, (relPath: string, base: string) => boolean>();

/**
 * Does `exclude`/`extend-exclude` (gitignore syntax, relative to the settings' root) skip this
 * path, or does `include` leave this file out (a glob with a "/" matches the path from the root,
 * one without matches the file name, as Ruff's include)?
 */
export function isExcluded(settings: Settings, abs: string, isDir: boolean): boolean {
  let ig = excludeCache.get(settings);
  if (!ig) excludeCache.set(settings, (ig = ignore().add([...settings.exclude, ...settings.extendExclude])));
  const r = rel(settings.root, abs);
  if (!r || r.startsWith("..") || path.isAbsolute(r)) return false;
  if (ig.ignores(isDir ? r + "/" : r)) return true;
  if (isDir || !settings.include) return false;
  let included = includeCache.get(settings);
  if (!included) {
    const ms = settings.include.map((g) => ({ m: picomatch(g, { dot: true }), slash: g.includes("/") }));
    includeCache.set(settings, (included = (relPath, base) => ms.some(({ m, slash }) => m(relPath) || (!slash && m(base)))));
  }
  return !included(r, path.basename(abs));
}

/**
 * The configuration's defaults for options the command line left unset: output-format, fix,
 * unsafe-fixes, cache-dir (the settings for the working folder, as Ruff reads them). `terminal`:
 * stdout is a terminal, where the default format is full.
 */
export function withConfigDefaults(opts: CliOptions, terminal = false): CliOptions {
  const s = new ConfigResolver({ cwd: opts.cwd, configFile: opts.config, isolated: opts.isolated, cli: cliLayer(opts) }).forDir(opts.cwd);
  return {
    ...opts,
    format: opts.format || s.outputFormat || (terminal ? "full" : "stylish"),
    // --fix / --no-fix win over the configuration's fix (unset: undefined).
    fix: opts.fix ?? (s.fix === true && !opts.diff && !opts.fixOnly && !opts.addNoqa && !opts.writeBaseline),
    unsafeFixes: opts.unsafeFixes ?? s.unsafeFixes === true,
    cacheDir: opts.cacheDir ?? s.cacheDir ?? undefined,
  };
}

/** Does this file's configuration let the fixes of rule `code` be applied (fixable, extend-fixable, unfixable)? */
export function isFixable(settings: Settings, code: string): boolean {
  const rule = RULES.find((r) => r.meta.code === code);
  if (!rule) return true;
  const inList = (sels: readonly string[]) => sels.some((s) => matchesSelector(rule, s));
  const fixable = settings.fixable === null || inList(settings.fixable) || inList(settings.extendFixable);
  return fixable && !inList(settings.unfixable);
}

const pfiCache = new WeakMap<Settings, { match: (relPath: string, base: string) => boolean; negated: boolean; codes: string[] }[]>();

/** Rule codes that per-file-ignores turn off for this file. */
export function perFileIgnoredRules(settings: Settings, file: string): Set<string> {
  let matchers = pfiCache.get(settings);
  if (!matchers) {
    matchers = settings.perFileIgnores.map(({ pattern, codes }) => {
      const negated = pattern.startsWith("!");
      const glob = negated ? pattern.slice(1) : pattern;
      const m = picomatch(glob, { dot: true });
      const hasSlash = glob.includes("/");
      return { match: (r: string, base: string) => m(r) || (!hasSlash && m(base)), negated, codes };
    });
    pfiCache.set(settings, matchers);
  }
  const r = rel(settings.root, path.resolve(file));
  const base = path.basename(file);
  const out = new Set<string>();
  for (const m of matchers) {
    if (m.match(r, base) !== m.negated) {
      for (const rule of RULES) if (m.codes.some((c) => matchesSelector(rule, c))) out.add(rule.meta.code);
    }
  }
  return out;
}

/** Codes of the rules enabled for one file: the selections less its per-file-ignores. */
export function enabledCodes(settings: Settings, file: string): Set<string> {
  const off = perFileIgnoredRules(settings, file);
  return new Set(settings.rules.map((r) => r.meta.code).filter((c) => !off.has(c)));
}

/** What --show-settings prints: the resolved settings for one file, every option of the table, one key a line. */
export function formatSettings(settings: Settings, file: string, cwd: string): string {
  const show = (p: string) => JSON.stringify(p);
  const enabled = enabledCodes(settings, file);
  const fields = settings as unknown as Record<string, unknown>;
  const lines = [
    `Resolved settings for: ${show(path.resolve(cwd, file))}`,
    `Settings path: ${settings.configFile ? show(settings.configFile) : "(none: defaults)"}`,
    "",
    `root = ${show(settings.root)}`,
    // extend-per-file-ignores is merged into per-file-ignores, so shown there.
    ...OPTIONS.filter((o) => o.field && o.show && o.key !== "extend-per-file-ignores").map((o) => `${o.key} = ${o.show!(fields[o.field!])}`),
    "",
    "rules enabled for this file:",
    ...settings.rules
      .filter((r) => enabled.has(r.meta.code))
      .map((r) => `  ${r.meta.code} ${r.meta.name} (${settings.severity[r.meta.code] ?? r.meta.severity})`),
  ];
  return lines.join("\n") + "\n";
}
