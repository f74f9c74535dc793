// The command line's grammar: one table of subcommands and options, the yargs parser built from
// it (strict: yargs' own checks of options, choices and commands), and the help text written from
// it. Ruff's conventions (clap's): `--x=value` and `--x value` mean the
// same; a flag takes no value except an explicit boolean after `=` (`--fix=true`, `--fix=no`);
// `--no-x` turns a flag off; short options `-f json`, `-fjson`, `-f=json`, and flags may be joined
// (`-en`); `--` ends the options. Anything the table does not name is an error with a suggestion:
// an unknown option, a value outside an option's choices, a mistyped subcommand (`chekc`).

import yargs, { type Argv, type Options } from "yargs";

import { distance } from "../files/text.js";
import { FORMATS } from "../reporters/formats.js";

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
  /** `optional` kind: what `--no-x` means (without it, --no-x is unknown). */
  off?: string;
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
const SERVER = "Language server";

export const OPTIONS: readonly OptionSpec[] = [
  // Output
  { long: "output-format", short: "f", kind: "value", value: "FORMAT", aliases: ["format"], group: OUT, describe: `${FORMATS.join(" | ")} (default: output-format in the configuration, else full on a terminal, else stylish); also spelled --format` },
  { long: "output-file", short: "o", kind: "value", value: "FILE", group: OUT, describe: "write the report to this file" },
  { long: "statistics", kind: "flag", group: OUT, describe: "print the number of findings per rule, [*] where fixable" },
  { long: "show-files", kind: "flag", group: OUT, describe: "print the files that would be linted, and exit" },
  { long: "show-settings", kind: "flag", group: OUT, describe: "print the settings in force for a file, and exit" },
  { long: "quiet", short: "q", kind: "flag", group: OUT, describe: "print the findings and nothing else (no summary line), as Ruff's --quiet" },
  { long: "silent", short: "s", kind: "flag", group: OUT, describe: "print no findings and no summary (warnings and errors still go to standard error); the exit code tells" },
  { long: "errors-only", kind: "flag", group: OUT, describe: "report findings of severity error only (the old meaning of --quiet, ESLint's)" },
  { long: "color", kind: "optional", value: "WHEN", choices: ["auto", "always", "never"], bare: "always", off: "never", group: OUT, describe: "colour: auto (a terminal, NO_COLOR and FORCE_COLOR decide), always, never; --color alone is always, --no-color is never" },
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
  // The language server (`mps-lint server`)
  { long: "stdio", kind: "flag", group: SERVER, describe: "`server`: talk over standard input and output (the default)" },
  { long: "node-ipc", kind: "flag", group: SERVER, describe: "`server`: talk over Node's IPC channel (the editor forks the server)" },
  { long: "socket", kind: "value", value: "PORT", group: SERVER, describe: "`server`: connect to the editor at this port on 127.0.0.1" },
  { long: "pipe", kind: "value", value: "NAME", group: SERVER, describe: "`server`: connect to the editor at this named pipe (a Unix socket path)" },
  { long: "clientProcessId", kind: "value", value: "PID", group: SERVER, hidden: true, describe: "`server`: the editor's process: exit when it is gone" },
  // Everywhere
  { long: "all", kind: "flag", group: MISC, describe: "`mps-lint rule --all`: every rule" },
  { long: "help", short: "h", kind: "flag", group: MISC, describe: "show help" },
  { long: "version", short: "V", kind: "flag", group: MISC, describe: "show the version number" },
];

/** Subcommands. Another stage adds its own by pushing here before main() runs (room for `trace`). */
export const COMMANDS: CommandSpec[] = [
  { name: "check", args: "[PATHS...]", describe: "lint Python files and notebooks (the default command; no paths: the current folder; - reads standard input)", options: "lint" },
  { name: "rule", args: "[CODE]", describe: "show a rule's documentation (--all: every rule; -f json)", options: ["all", "output-format", "help"] },
  { name: "server", args: "", describe: "run the language server (LSP) for editors: over standard input and output, or --node-ipc, --socket=PORT, --pipe=NAME", options: ["stdio", "node-ipc", "socket", "pipe", "clientProcessId", "help"] },
  { name: "bench", args: "[ARGS...]", describe: "measure device sync vs event sync vs a process pool on this machine (the guide's comparison)", options: ["python", "help"], raw: true },
  { name: "trace", args: "-- COMMAND...", describe: "run a command (your tests, your app) with hooks on torch's waits and join what ran with the findings (mps-lint trace --help)", options: ["help"], raw: true },
  { name: "clean", args: "", describe: "remove the cache folder (.mps_lint_cache at the project root, or --cache-dir)", options: ["cache-dir", "help"] },
  { name: "version", args: "", describe: "print the version and the parser backend in use (native or wasm)", options: ["help"] },
];

const LINT_ONLY_OPTIONS = new Set(["all", "stdio", "node-ipc", "socket", "pipe", "clientProcessId"]);

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

const listOf = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);

/**
 * Ruff's spellings that yargs-parser reads otherwise, rewritten into the one form yargs reads the
 * same way: `--fix=yes` -> `--fix`, `--fix=off` -> `--no-fix` (yargs-parser takes any value but
 * "true" as false); short options split and glued (`-en` -> `-e -n`, `-fjson` -> `-f=json`);
 * `-n` -> `--no-cache`; an option's value joined with `=` (`--select X` -> `--select=X`), so that
 * yargs' first pass, before it knows the subcommand, never takes a value for a word or a word for
 * a value; an optional value made explicit (`--color` -> `--color=always`). Unknown long options
 * are left for yargs' strict mode. A raw command's own arguments are set apart, untouched.
 */
/**
 * `-` (standard input) as yargs is given it: yargs drops a `-` from the positionals it names
 * (`[paths..]`), and no argument the system passes can hold a NUL.
 */
const STDIN = "\u0000-";

function normalize(argv: readonly string[]): { tokens: string[]; command?: CommandSpec; commandAt: number; raw: string[] } {
  const tokens: string[] = [];
  const raw: string[] = [];
  let command: CommandSpec | undefined;
  let commandAt = -1;
  let i = 0;
  const valueFor = (spec: OptionSpec, spelled: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    const next = argv[i];
    if (!isValueLike(next)) throw new ArgvError(`${spelled} expects a value (${spec.value ?? "VALUE"})`);
    i++;
    return next;
  };
  /** One option, spelled `spelled` (`--x` or `-x`), with its text after `=` if any. */
  const option = (spec: OptionSpec, spelled: string, inline: string | undefined, negated: boolean): void => {
    const name = spelled.startsWith("--") ? spelled.slice(2) : spelled.slice(1);
    const dash = spelled.startsWith("--") ? "--" : "-";
    if (spec.long === "no-cache") {
      if (inline !== undefined) throw new ArgvError(`${spelled} takes no value`);
      tokens.push("--no-cache");
      return;
    }
    if (negated) {
      if (inline !== undefined) throw new ArgvError(`${spelled} takes no value`);
      if (spec.kind === "flag" || spec.off !== undefined) tokens.push(spelled);
      else throw new ArgvError(`unknown option ${spelled}`);
      return;
    }
    switch (spec.kind) {
      case "flag": {
        // `--fix=true`, not `--fix`: before yargs knows the subcommand it knows no option, and
        // would take the next word (`mps-lint --fix check x`) as the value of a bare one.
        if (inline === undefined) return void tokens.push(`${spelled}=true`);
        const v = inline.toLowerCase();
        if (FLAG_TRUE.includes(v)) return void tokens.push(`${spelled}=true`);
        if (FLAG_FALSE.includes(v)) return void tokens.push(`--no-${spec.long}`);
        throw new ArgvError(`${spelled} takes no value, or one of true, false (yes, no, on, off, 1, 0); got "${inline}"`);
      }
      case "optional": {
        let v = inline;
        // `--color always`: the next word is the value when it can only be one (a choice).
        if (v === undefined && spec.choices && argv[i] !== undefined && spec.choices.includes(argv[i])) v = argv[i++];
        return void tokens.push(`${dash}${name}=${v ?? spec.bare ?? ""}`);
      }
      case "value":
      case "list":
        return void tokens.push(`${dash}${name}=${valueFor(spec, spelled, inline)}`);
    }
  };
  let rawEnded = false;
  while (i < argv.length) {
    const a = argv[i++];
    if (command?.raw) {
      // A raw command's arguments go through as written, but for its own options (help, python)
      // and one `--`, which ends those.
      if (a === "--" && !rawEnded) {
        rawEnded = true;
        continue;
      }
      if (rawEnded) {
        raw.push(a);
        continue;
      }
      const name = a.replace(/^--?/, "").split("=")[0];
      const spec = a.startsWith("-") ? (a.startsWith("--") ? byLong.get(name) : byShort.get(name)) : undefined;
      if (spec && command.options !== "lint" && command.options.includes(spec.long) && (spec.long !== "help" || !a.includes("="))) {
        option(spec, a.split("=")[0], a.includes("=") ? a.slice(a.indexOf("=") + 1) : undefined, false);
      } else {
        raw.push(a);
      }
      continue;
    }
    if (a === "--") {
      tokens.push(...argv.slice(i - 1).map((t) => (t === "-" ? STDIN : t)));
      break;
    }
    if (a === "-" || !a.startsWith("-")) {
      if (a === "-") {
        tokens.push(STDIN);
        continue;
      }
      if (!command) {
        commandAt = tokens.length;
        command = COMMANDS.find((c) => c.name === a) ?? COMMANDS[0];
        if (command.name !== a) command = { ...COMMANDS[0], name: "" };
      }
      tokens.push(a);
      continue;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      let spec = byLong.get(name);
      let negated = false;
      if (!spec && name.startsWith("no-")) {
        spec = byLong.get(name.slice(3));
        negated = !!spec;
      }
      if (!spec) tokens.push(a); // yargs' strict mode names it, with a suggestion
      else option(spec, `--${name}`, inline, negated);
      continue;
    }
    // Short options: -f json, -fjson, -f=json, -en.
    for (let k = 1; k < a.length; k++) {
      const ch = a[k];
      const spec = byShort.get(ch);
      const spelled = `-${ch}`;
      if (!spec) throw new ArgvError(`unknown option ${spelled}${a.length > 2 ? ` (in ${a})` : ""} (mps-lint ${command?.name || "check"} --help lists them)`);
      if (spec.kind === "flag" || spec.kind === "optional") {
        if (a[k + 1] === "=") {
          option(spec, spelled, a.slice(k + 2), false);
          break;
        }
        option(spec, spelled, undefined, false);
        continue;
      }
      const rest = a.slice(k + 1).replace(/^=/, "");
      option(spec, spelled, rest === "" ? undefined : rest, false);
      break;
    }
  }
  return { tokens, command: command?.name ? command : undefined, commandAt, raw };
}

/** yargs' `.option()` settings for one row of the table. */
function yargsOption(o: OptionSpec): Options {
  const last = (v: unknown) => (Array.isArray(v) ? v[v.length - 1] : v);
  const choice = (v: string): string => {
    if (o.choices && !o.choices.includes(v)) {
      const guess = closest(v, o.choices);
      throw new ArgvError(`--${o.long} expects one of ${o.choices.join(", ")}, got "${v}"${guess ? `; did you mean "${guess}"?` : ""}`);
    }
    return v;
  };
  const common: Options = { describe: o.describe, group: `${o.group}:`, hidden: o.hidden, alias: [...(o.short ? [o.short] : []), ...(o.aliases ?? [])] };
  switch (o.kind) {
    // No coerce for these two (a coerce is a middleware per option, ~0.5 ms each at every start):
    // a repeat's last value wins in parseArgs, and yargs checks the choices (its message is
    // reworded in choiceError).
    case "flag":
      return { ...common, type: "boolean" };
    case "value":
      return { ...common, type: "string", requiresArg: true, choices: o.choices ? [...o.choices] : undefined };
    case "list":
      // Repeats accumulate (yargs' duplicate-arguments-array), each value split at commas.
      return { ...common, type: "string", array: true, nargs: 1, coerce: (v: unknown) => (Array.isArray(v) ? v : [v]).flatMap((x) => listOf(String(x))) };
    case "optional":
      return {
        ...common,
        type: "string",
        coerce: (v: unknown) => {
          const x = last(v);
          if (x === false) return o.off ?? false; // --no-color
          if (x === "" || x === true) return o.bare ?? true; // --add-noqa alone
          return choice(String(x));
        },
      };
  }
}

/** The yargs instance of the table: every command with its options, strict. */
function buildParser(): Argv {
  let y = yargs()
    .scriptName("mps-lint")
    .help(false)
    .version(false)
    .exitProcess(false)
    .strict()
    .strictCommands()
    .parserConfiguration({
      "camel-case-expansion": false,
      "dot-notation": false,
      "parse-numbers": false,
      "parse-positional-numbers": false,
      "strip-aliased": true,
      "duplicate-arguments-array": true,
      "greedy-arrays": false,
    })
    .fail((msg, err) => {
      if (err instanceof ArgvError) throw err;
      throw new ArgvError(err ? err.message : msg);
    });
  for (const cmd of COMMANDS) {
    const allowed = optionsOf(cmd);
    const builder = (b: Argv) => {
      for (const o of OPTIONS) if (allowed.has(o.long) && o.long !== "no-cache") b = b.option(o.long, yargsOption(o));
      return b;
    };
    const positional = cmd.options === "lint" ? "[paths..]" : "[args..]";
    const names = cmd === COMMANDS[0] ? [`${cmd.name} ${positional}`, `$0 ${positional}`] : [`${cmd.name} ${positional}`];
    y = y.command(names, cmd.describe, builder, () => undefined);
  }
  return y;
}

/** yargs' "Invalid values: Argument: dump, Given: "x", Choices: ..." as our message, with the closest choice. */
function choiceError(message: string): string {
  const m = /Argument: ([^,]+), Given: "((?:[^"\\]|\\.)*)"/.exec(message);
  const spec = m ? byLong.get(m[1]) : undefined;
  if (!m || !spec?.choices) return message;
  const given = m[2];
  const guess = closest(given, spec.choices);
  return `--${spec.long} expects one of ${spec.choices.join(", ")}, got "${given}"${guess ? `; did you mean "${guess}"?` : ""}`;
}

/** yargs' "Unknown argument: selec" as our message, with the closest option of the command. */
function unknownOption(message: string, cmd: CommandSpec, argv: readonly string[]): string {
  const m = /^Unknown arguments?: ([^,\n]+)/.exec(message);
  if (!m) return message;
  // As the user wrote it: yargs names `--no-such` "such" (its boolean negation).
  const written = argv.map((a) => a.split("=")[0]).find((a) => a === `--${m[1]}` || a === `--no-${m[1]}`);
  const spelled = written ?? (m[1].length === 1 ? `-${m[1]}` : `--${m[1]}`);
  const names = [...optionsOf(cmd)].filter((l) => !byLong.get(l)!.hidden).map((l) => `--${l}`);
  const guess = closest(spelled, names);
  return `unknown option ${spelled}${guess ? `; did you mean ${guess}?` : ""} (mps-lint ${cmd.name} --help lists them)`;
}

/**
 * argv -> ParsedArgs. `exists(p)` tells whether a path exists: a first word that names no
 * subcommand and no file, but is close to a subcommand, is a mistyped subcommand.
 */
export function parseArgs(argv: readonly string[], exists: (p: string) => boolean): ParsedArgs {
  const { tokens, command, raw } = normalize(argv);
  const cmd = command ?? COMMANDS[0];
  let parsed: Record<string, unknown>;
  try {
    parsed = buildParser().parseSync(tokens) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof ArgvError) throw new ArgvError(choiceError(unknownOption(e.message, cmd, argv)));
    throw e;
  }
  const out: ParsedArgs = { command: cmd.name, explicit: command !== undefined, positionals: [], options: new Map(), raw };
  const rest = (parsed._ as (string | number)[]).map(String);
  if (out.explicit) rest.shift();
  const named = (parsed.paths ?? parsed.args ?? []) as (string | number)[];
  out.positionals = [...named.map(String), ...rest].map((p) => (p === STDIN ? "-" : p));
  if (!out.explicit && out.positionals.length > 0) {
    const word = out.positionals[0];
    const end = argv.indexOf("--");
    const beforeEnd = end < 0 || argv.indexOf(word) < end;
    if (beforeEnd && /^[a-z][a-z-]*$/.test(word) && !exists(word)) {
      const guess = closest(word, COMMANDS.filter((c) => !c.hidden).map((c) => c.name));
      if (guess) throw new ArgvError(`unrecognized subcommand "${word}"; did you mean "${guess}"? (or name an existing file or folder)`);
    }
  }
  for (const o of OPTIONS) {
    const v = parsed[o.long];
    // A repeated option: yargs keeps every value; the last one wins (lists are joined already).
    if (v !== undefined) out.options.set(o.long, (o.kind !== "list" && Array.isArray(v) ? v[v.length - 1] : v) as OptionValue);
  }
  return out;
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
    // yargs' layout of a command row (`mps-lint NAME  describe`); a raw command's arguments are
    // its own (its describe says where they are listed).
    for (const c of COMMANDS.filter((c) => !c.hidden)) {
      const left = `  mps-lint ${c.name}${c.args && !c.raw ? ` ${c.args}` : ""}`;
      lines.push(`${left.padEnd(30)}${left.length >= 30 ? " " : ""}${c.describe}`);
    }
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
