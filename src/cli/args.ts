// The command line's grammar: one table of subcommands and options, a strict parser over it, and
// the help text written from it. Ruff's conventions (clap's): `--x=value` and `--x value` mean the
// same; a flag takes no value except an explicit boolean after `=` (`--fix=true`, `--fix=no`);
// `--no-x` turns a flag off; short options `-f json`, `-fjson`, `-f=json`, and flags may be joined
// (`-en`); `--` ends the options. Anything the table does not name is an error with a suggestion:
// an unknown option, a value outside an option's choices, a mistyped subcommand (`chekc`).

export type OptionKind =
  /** On or off: `--x`, `--no-x`, `--x=true|false|yes|no|on|off|1|0`. */
  | "flag"
  /** One value, the last one given wins: `--x V`, `--x=V`. */
  | "value"
  /** Values accumulate over repeats and commas: `--x A,B --x C`. */
  | "list"
  /** A flag whose value is optional: `--x` alone, or `--x=V` (or `--x V` when V is one of `choices`). */
  | "optional";

export interface OptionSpec {
  long: string;
  short?: string;
  kind: OptionKind;
  /** Placeholder in the help text. */
  value?: string;
  /** The only values allowed. */
  choices?: readonly string[];
  /** `optional` kind: what a bare `--x` means. */
  bare?: string;
  describe: string;
  /** Help section. */
  group: string;
  hidden?: boolean;
  /** Also spelled so (old names kept working). */
  aliases?: readonly string[];
}

export interface CommandSpec {
  name: string;
  /** `mps-lint NAME ARGS` in the help. */
  args: string;
  describe: string;
  /** Options this command takes, by long name; "*" for every lint option. */
  options: readonly string[] | "lint";
  /** Arguments are passed through unparsed (the bench harness has its own flags). */
  raw?: boolean;
  hidden?: boolean;
}

const FLAG_TRUE = ["true", "yes", "on", "1"];
const FLAG_FALSE = ["false", "no", "off", "0"];

export class ArgvError extends Error {}

// ---- the table ---------------------------------------------------------------------------------

const OUT = "Output";
const RULES = "Rule selection";
const FILES = "File selection";
const FIX = "Fixes";
const ADOPT = "Adoption";
const CONFIG = "Configuration";
const RUN = "Run";
const VERIFY = "Measurement (--verify)";
const MISC = "Miscellaneous";

export const OPTIONS: readonly OptionSpec[] = [
  // Output
  { long: "output-format", short: "f", kind: "value", value: "FORMAT", aliases: ["format"], group: OUT, describe: "stylish | concise | full | grouped | json | json-lines | sarif | github | gitlab | junit | pylint | rdjson | azure (default: output-format in the configuration, else full on a terminal, else stylish); also spelled --format" },
  { long: "output-file", short: "o", kind: "value", value: "FILE", group: OUT, describe: "write the report to this file" },
  { long: "statistics", kind: "flag", group: OUT, describe: "print the number of findings per rule, [*] where fixable" },
  { long: "show-files", kind: "flag", group: OUT, describe: "print the files that would be linted, and exit" },
  { long: "show-settings", kind: "flag", group: OUT, describe: "print the settings in force for a file, and exit" },
  { long: "quiet", short: "q", kind: "flag", group: OUT, describe: "print the findings and nothing else (no summary line), as Ruff's --quiet" },
  { long: "silent", short: "s", kind: "flag", group: OUT, describe: "print no findings and no summary (warnings and errors still go to standard error); the exit code tells" },
  { long: "errors-only", kind: "flag", group: OUT, describe: "report findings of severity error only (the old meaning of --quiet, ESLint's)" },
  { long: "color", kind: "optional", value: "WHEN", choices: ["auto", "always", "never"], bare: "always", group: OUT, describe: "colour: auto (a terminal, NO_COLOR and FORCE_COLOR decide), always, never; --color alone is always, --no-color is never" },
  { long: "exit-zero", short: "e", kind: "flag", group: OUT, describe: "exit 0 even when there are findings" },
  { long: "exit-non-zero-on-fix", kind: "flag", group: OUT, describe: "exit 1 when fixes were applied, even if no finding is left" },
  { long: "max-warnings", kind: "value", value: "N", group: OUT, describe: "exit 1 when there are more than N warnings (warnings alone then fail only past it)" },
  { long: "explain", kind: "value", value: "CODE", group: OUT, describe: "show a rule's documentation and exit (as `mps-lint rule CODE`)" },
  // Rule selection
  { long: "select", kind: "list", value: "CODES", group: RULES, describe: "rule codes or prefixes to enable, comma-separated (replaces the configuration's)" },
  { long: "extend-select", kind: "list", value: "CODES", group: RULES, describe: "rules to enable in addition" },
  { long: "ignore", kind: "list", value: "CODES", group: RULES, describe: "rule codes or prefixes to disable" },
  { long: "per-file-ignores", kind: "list", value: "GLOB:CODE", group: RULES, describe: 'rules off for files matching a glob, e.g. "tests/*:MPS002" (replaces the configuration\'s)' },
  { long: "extend-per-file-ignores", kind: "list", value: "GLOB:CODE", group: RULES, describe: "per-file ignores in addition to the configuration's" },
  { long: "ignore-noqa", kind: "flag", group: RULES, describe: "ignore # noqa and # mps-lint: ignore comments" },
  // File selection
  { long: "exclude", kind: "list", value: "PATTERNS", group: FILES, describe: "gitignore-style patterns of files and folders to skip (replaces the configuration's exclude)" },
  { long: "extend-exclude", kind: "list", value: "PATTERNS", group: FILES, describe: "patterns to skip in addition to exclude" },
  { long: "force-exclude", kind: "flag", group: FILES, describe: "apply the excludes to files named on the command line too (pre-commit)" },
  { long: "respect-gitignore", kind: "flag", group: FILES, describe: "skip what .gitignore files ignore (default: on; --no-respect-gitignore)" },
  { long: "stdin-filename", kind: "value", value: "PATH", group: FILES, describe: "the path of the source read from standard input (-)" },
  // Fixes
  { long: "fix", kind: "flag", group: FIX, describe: "apply safe fixes (with --unsafe-fixes: unsafe ones too) and report what is left" },
  { long: "unsafe-fixes", kind: "flag", group: FIX, describe: "enable fixes that may change behaviour (applied with --fix, shown as available)" },
  { long: "fix-only", kind: "flag", group: FIX, describe: "apply fixes and report nothing else" },
  { long: "diff", kind: "flag", group: FIX, describe: "print the fixes as a unified diff and change nothing (exit 1 when there would be changes)" },
  { long: "show-fixes", kind: "flag", group: FIX, describe: "list the fixed findings (with --fix), or show each finding's fix" },
  { long: "fixable", kind: "list", value: "CODES", group: FIX, describe: "only these rules' fixes are applied or shown as available" },
  { long: "unfixable", kind: "list", value: "CODES", group: FIX, describe: "these rules' fixes are never applied" },
  { long: "extend-fixable", kind: "list", value: "CODES", group: FIX, describe: "rules fixable in addition to fixable" },
  // Adoption
  { long: "add-noqa", kind: "optional", value: "REASON", group: ADOPT, describe: "add # noqa: CODE to every line with a finding; --add-noqa=REASON writes the reason after the codes" },
  { long: "baseline", kind: "value", value: "FILE", group: ADOPT, describe: "ignore the findings recorded in this file" },
  { long: "write-baseline", kind: "value", value: "FILE", group: ADOPT, describe: "record the current findings in this file, and exit" },
  // Configuration
  { long: "config", kind: "list", value: "FILE|KEY=VALUE", group: CONFIG, describe: 'a configuration file for every linted file (pyproject.toml or mps-lint.toml), or a setting in TOML, e.g. --config "torch-version = \'2.5\'" (repeatable; settings win over the files)' },
  { long: "isolated", kind: "flag", group: CONFIG, describe: "ignore all configuration files" },
  // Run
  { long: "watch", short: "w", kind: "flag", group: RUN, describe: "lint again whenever a file changes" },
  { long: "jobs", short: "j", kind: "value", value: "N", group: RUN, describe: "parse workers (default: the number of cores)" },
  { long: "cache", kind: "flag", group: RUN, hidden: true, describe: "use the cache (the default)" },
  { long: "no-cache", short: "n", kind: "flag", group: RUN, describe: "do not read or write the cache (.mps_lint_cache)" },
  { long: "cache-dir", kind: "value", value: "DIR", group: RUN, describe: "cache folder (default: .mps_lint_cache at the project root)" },
  { long: "dump", kind: "value", value: "KIND", group: RUN, describe: "print what the analysis concluded for these files, and exit: callgraph | summaries | timeline" },
  { long: "prefilter", kind: "flag", group: RUN, describe: "parse only the files that can hold a finding (default); --no-prefilter parses every file (syntax errors everywhere; slower)" },
  { long: "timing", kind: "flag", group: RUN, hidden: true, describe: "phase timings as JSON on stderr" },
  // --verify
  { long: "verify", kind: "flag", group: VERIFY, describe: "run the files with findings on the accelerator and measure what the syncs cost" },
  { long: "python", kind: "value", value: "PATH", group: VERIFY, describe: "Python interpreter with torch for --verify and bench (default: verify.python in the configuration)" },
  { long: "device", kind: "value", value: "DEVICE", choices: ["auto", "mps", "cuda", "xpu", "cpu"], group: VERIFY, describe: "device for --verify (default: mps, else cuda, else cpu)" },
  { long: "verify-timeout", kind: "value", value: "SECONDS", group: VERIFY, describe: "seconds per verify run before the target is killed (default: verify.timeout, else 60)" },
  { long: "verify-entry", kind: "value", value: "COMMAND", group: VERIFY, describe: "command to run for --verify instead of each file as __main__" },
  { long: "verify-repeats", kind: "value", value: "N", group: VERIFY, describe: "at least this many timed runs per mode (median and spread; they go on for 1 s in all)" },
  { long: "verify-memory", kind: "value", value: "MIB", group: VERIFY, describe: "MiB of resident memory the target's processes may use before they are killed (0: no limit; default: half the RAM)" },
  { long: "verbose", kind: "flag", group: VERIFY, describe: "show the verified program's own output" },
  // Everywhere
  { long: "all", kind: "flag", group: MISC, describe: "`mps-lint rule --all`: every rule" },
  { long: "help", short: "h", kind: "flag", group: MISC, describe: "show help" },
  { long: "version", short: "V", kind: "flag", group: MISC, describe: "show the version number" },
];

/** Subcommands. Another stage adds its own by pushing here before main() runs (room for `trace`). */
export const COMMANDS: CommandSpec[] = [
  { name: "check", args: "[PATHS...]", describe: "lint Python files and notebooks (the default command; no paths: the current folder; - reads standard input)", options: "lint" },
  { name: "rule", args: "[CODE]", describe: "show a rule's documentation (--all: every rule; -f json)", options: ["all", "output-format", "help"] },
  { name: "server", args: "", describe: "run the language server (LSP over standard input and output) for editors", options: ["help"] },
  { name: "bench", args: "[ARGS...]", describe: "measure device sync vs event sync vs a process pool on this machine (the guide's comparison)", options: ["python", "help"], raw: true },
  { name: "clean", args: "", describe: "remove the cache folder (.mps_lint_cache at the project root, or --cache-dir)", options: ["cache-dir", "help"] },
  { name: "version", args: "", describe: "print the version and the parser backend in use (native or wasm)", options: ["help"] },
];

const LINT_ONLY_OPTIONS = new Set(["all"]);

function optionsOf(cmd: CommandSpec): Set<string> {
  if (cmd.options === "lint") return new Set(OPTIONS.map((o) => o.long).filter((l) => !LINT_ONLY_OPTIONS.has(l)));
  return new Set([...cmd.options, "help", "version"]);
}

// ---- parsing -----------------------------------------------------------------------------------

export type OptionValue = boolean | string | string[];

export interface ParsedArgs {
  /** The subcommand ("check" when none was named). */
  command: string;
  /** Whether the subcommand was written out (`mps-lint check x` vs `mps-lint x`). */
  explicit: boolean;
  positionals: string[];
  /** Options given, by long name: flags as booleans, values as strings, lists as arrays. */
  options: Map<string, OptionValue>;
  /** A raw command's arguments, as written. */
  raw: string[];
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

export function closest(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(1, Math.min(2, Math.floor(word.length / 2))) ? best : null;
}

const byLong = new Map<string, OptionSpec>();
const byShort = new Map<string, OptionSpec>();
for (const o of OPTIONS) {
  byLong.set(o.long, o);
  for (const a of o.aliases ?? []) byLong.set(a, o);
  if (o.short) byShort.set(o.short, o);
}

const isValueLike = (s: string | undefined): s is string => s !== undefined && (s === "-" || !s.startsWith("-") || /^-\d/.test(s));

/**
 * argv -> ParsedArgs. `exists(p)` tells whether a path exists: a first word that names no
 * subcommand and no file, but is close to a subcommand, is a mistyped subcommand.
 */
export function parseArgs(argv: readonly string[], exists: (p: string) => boolean): ParsedArgs {
  let i = 0;
  let cmd: CommandSpec = COMMANDS[0];
  let explicit = false;
  const out: ParsedArgs = { command: cmd.name, explicit, positionals: [], options: new Map(), raw: [] };
  // The subcommand is the first word that is neither an option nor an option's value (Ruff's
  // place for it; options may come before it).
  let firstWord = -1;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === "--") break;
    if (a === "-" || !a.startsWith("-")) {
      firstWord = k;
      break;
    }
    if (takesNextValue(a, argv[k + 1])) k++;
  }
  let skipIndex = -1;
  if (firstWord >= 0) {
    const word = argv[firstWord];
    const named = COMMANDS.find((c) => c.name === word);
    if (named) {
      cmd = named;
      explicit = true;
      skipIndex = firstWord;
    } else if (/^[a-z][a-z-]*$/.test(word) && !exists(word)) {
      const guess = closest(word, COMMANDS.filter((c) => !c.hidden).map((c) => c.name));
      if (guess) throw new ArgvError(`unrecognized subcommand "${word}"; did you mean "${guess}"? (or name an existing file or folder)`);
    }
  }
  out.command = cmd.name;
  out.explicit = explicit;
  const allowed = optionsOf(cmd);

  const set = (spec: OptionSpec, value: OptionValue, spelled: string) => {
    if (!allowed.has(spec.long)) {
      throw new ArgvError(`${spelled} is not an option of \`mps-lint ${cmd.name}\`${cmd.name === "check" ? "" : ` (see mps-lint ${cmd.name} --help)`}`);
    }
    if (spec.kind === "list") {
      const prev = (out.options.get(spec.long) as string[] | undefined) ?? [];
      out.options.set(spec.long, [...prev, ...(value as string[])]);
    } else {
      out.options.set(spec.long, value);
    }
  };

  const checkChoice = (spec: OptionSpec, v: string, spelled: string): string => {
    if (spec.choices && !spec.choices.includes(v)) {
      const guess = closest(v, spec.choices);
      throw new ArgvError(`${spelled} expects one of ${spec.choices.join(", ")}, got "${v}"${guess ? `; did you mean "${guess}"?` : ""}`);
    }
    return v;
  };

  const listOf = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);

  /** Apply option `spec` spelled `spelled` with an inline value (after `=`, or joined to a short), or take the next argument. */
  const apply = (spec: OptionSpec, spelled: string, inline: string | undefined, negated: boolean): void => {
    if (negated) {
      if (inline !== undefined) throw new ArgvError(`${spelled} takes no value`);
      if (spec.kind === "flag") return set(spec, false, spelled);
      if (spec.long === "color") return set(spec, "never", spelled);
      throw new ArgvError(`unknown option ${spelled}`);
    }
    switch (spec.kind) {
      case "flag": {
        if (inline === undefined) return set(spec, true, spelled);
        const v = inline.toLowerCase();
        if (FLAG_TRUE.includes(v)) return set(spec, true, spelled);
        if (FLAG_FALSE.includes(v)) return set(spec, false, spelled);
        throw new ArgvError(`${spelled} takes no value, or one of true, false (yes, no, on, off, 1, 0); got "${inline}"`);
      }
      case "optional": {
        if (inline !== undefined) return set(spec, checkChoice(spec, inline, spelled), spelled);
        // `--color always`: the next word is the value when it can only be one (a choice).
        const next = argv[i];
        if (spec.choices && next !== undefined && spec.choices.includes(next)) {
          i++;
          return set(spec, next, spelled);
        }
        return set(spec, spec.bare ?? true, spelled);
      }
      case "value":
      case "list": {
        let v = inline;
        if (v === undefined) {
          const next = argv[i];
          if (!isValueLike(next)) throw new ArgvError(`${spelled} expects a value (${spec.value ?? "VALUE"})`);
          v = next;
          i++;
        }
        if (spec.kind === "list") return set(spec, listOf(v), spelled);
        return set(spec, checkChoice(spec, v, spelled), spelled);
      }
    }
  };

  let ended = false;
  while (i < argv.length) {
    if (i === skipIndex) {
      i++;
      continue;
    }
    const a = argv[i++];
    if (cmd.raw) {
      // Everything goes to the command as written, but its own options and one `--`.
      if (a === "--" && !ended) {
        ended = true;
        continue;
      }
      if (ended || (a !== "--help" && a !== "-h" && !a.startsWith("--python"))) {
        out.raw.push(a);
        continue;
      }
    }
    if (ended || a === "-" || !a.startsWith("-")) {
      out.positionals.push(a);
      continue;
    }
    if (a === "--") {
      ended = true;
      continue;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      const spelled = `--${name}`;
      let spec = byLong.get(name);
      let negated = false;
      if (!spec && name.startsWith("no-")) {
        spec = byLong.get(name.slice(3));
        negated = !!spec;
      }
      if (spec?.long === "no-cache") {
        // -n / --no-cache: Ruff's spelling of --cache=false.
        if (inline !== undefined) throw new ArgvError(`${spelled} takes no value`);
        set(byLong.get("cache")!, false, spelled);
        continue;
      }
      if (!spec) {
        const names = [...allowed].filter((l) => !byLong.get(l)!.hidden).map((l) => `--${l}`);
        const guess = closest(spelled, names);
        throw new ArgvError(`unknown option ${spelled}${guess ? `; did you mean ${guess}?` : ""} (mps-lint ${cmd.name} --help lists them)`);
      }
      apply(spec, spelled, inline, negated);
      continue;
    }
    // Short options: -f json, -fjson, -f=json, -en.
    for (let k = 1; k < a.length; k++) {
      const ch = a[k];
      const spec = byShort.get(ch);
      const spelled = `-${ch}`;
      if (!spec) throw new ArgvError(`unknown option ${spelled}${a.length > 2 ? ` (in ${a})` : ""} (mps-lint ${cmd.name} --help lists them)`);
      if (spec.long === "no-cache") {
        set(byLong.get("cache")!, false, spelled);
        continue;
      }
      if (spec.kind === "flag" || spec.kind === "optional") {
        if (a[k + 1] === "=") {
          apply(spec, spelled, a.slice(k + 2), false);
          break;
        }
        apply(spec, spelled, undefined, false);
        continue;
      }
      const rest = a.slice(k + 1).replace(/^=/, "");
      apply(spec, spelled, rest === "" ? undefined : rest, false);
      break;
    }
  }
  return out;
}

/** Does this argument (an option) take the next argument as its value? */
function takesNextValue(a: string, next: string | undefined): boolean {
  const spec = a.startsWith("--") ? (a.includes("=") ? undefined : byLong.get(a.slice(2))) : a.length === 2 ? byShort.get(a[1]) : undefined;
  if (!spec) return false;
  if (spec.kind === "optional") return !!spec.choices && next !== undefined && spec.choices.includes(next);
  return spec.kind === "value" || spec.kind === "list";
}

// ---- help --------------------------------------------------------------------------------------

function optionLine(o: OptionSpec): string {
  const short = o.short ? `-${o.short}, ` : "    ";
  let name = `--${o.long}`;
  if (o.kind === "value" || o.kind === "list") name += ` ${o.value ?? "VALUE"}`;
  else if (o.kind === "optional") name += `[=${o.value ?? "VALUE"}]`;
  const left = `  ${short}${name}`;
  return left.length >= 34 ? `${left}\n${" ".repeat(34)}${o.describe}` : `${left.padEnd(34)}${o.describe}`;
}

export function helpText(command: string, version: string): string {
  const cmd = COMMANDS.find((c) => c.name === command) ?? COMMANDS[0];
  const allowed = optionsOf(cmd);
  const lines: string[] = [];
  if (cmd.name === "check") {
    lines.push(`mps-lint ${version}: find PyTorch synchronization misuse in multi-threaded code.`, "");
    lines.push("Usage: mps-lint [check] [OPTIONS] [PATHS...]", "       mps-lint <COMMAND> [ARGS]", "", "Commands:");
    for (const c of COMMANDS.filter((c) => !c.hidden)) lines.push(`  ${`${c.name} ${c.args}`.padEnd(20)}${c.describe}`);
  } else {
    lines.push(`Usage: mps-lint ${cmd.name}${allowed.size > 1 ? " [OPTIONS]" : ""}${cmd.args ? ` ${cmd.args}` : ""}`, "", cmd.describe);
  }
  const groups = new Map<string, OptionSpec[]>();
  for (const o of OPTIONS) {
    if (o.hidden || !allowed.has(o.long)) continue;
    if (!groups.has(o.group)) groups.set(o.group, []);
    groups.get(o.group)!.push(o);
  }
  for (const [group, opts] of groups) {
    lines.push("", `${group}:`);
    for (const o of opts) lines.push(optionLine(o));
  }
  lines.push(
    "",
    "Values: --x VALUE and --x=VALUE are the same; flags take --no-x, or =true/false. Exit codes: 0 no findings,",
    "1 findings (or syntax errors), 2 usage, configuration or internal error, or no parser.",
  );
  return lines.join("\n") + "\n";
}
