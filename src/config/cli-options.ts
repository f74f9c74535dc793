// What the command line asks for, after src/cli/args.ts: plain data for the rest of the pipeline.
// It lives with the configuration, which merges it over each folder's settings (config.ts cliLayer)
// and fills what it leaves unset (withConfigDefaults); the run, the server and the CLI read it.

import type { ProgressSink } from "../reporters/progress.js";

export interface CliOptions {
  paths: string[];
  cwd: string;
  format: string;
  outputFile?: string;
  /** --quiet (Ruff's): the findings and nothing else, no summary line. */
  quiet: boolean;
  /** --silent: no report at all; the exit code still tells. */
  silent?: boolean;
  /** --errors-only: findings of severity error only. */
  errorsOnly?: boolean;
  exitZero: boolean;
  /** --exit-non-zero-on-fix: exit 1 when fixes were applied, even with nothing left. */
  exitNonZeroOnFix?: boolean;
  color: boolean;
  select?: string[];
  ignore?: string[];
  extendSelect?: string[];
  /** --per-file-ignores / --extend-per-file-ignores, as "glob:CODE" pairs parsed. */
  perFileIgnores?: { pattern: string; codes: string[] }[];
  extendPerFileIgnores?: { pattern: string; codes: string[] }[];
  /** --exclude (replaces the configuration's) and --extend-exclude. */
  exclude?: string[];
  extendExclude?: string[];
  /** --[no-]respect-gitignore. */
  respectGitignore?: boolean;
  /** --fixable / --unfixable / --extend-fixable: which rules' fixes count. */
  fixable?: string[];
  unfixable?: string[];
  extendFixable?: string[];
  /** --ignore-noqa: suppression comments are not applied. */
  ignoreNoqa?: boolean;
  /** --show-files: print the files that would be linted, and exit. */
  showFiles?: boolean;
  /** --config FILE: one configuration file for every linted file. */
  config?: string;
  /** --config "key = value": settings in TOML over every configuration file. */
  configOverrides?: string[];
  /** --isolated: ignore configuration files. */
  isolated?: boolean;
  /** --show-settings: print the resolved settings for the first file and exit. */
  showSettings?: boolean;
  /** --dump callgraph|summaries: print the call graph or function summaries of the files and exit. */
  dump?: string;
  /** --force-exclude: apply excludes to files named on the command line (pre-commit). */
  forceExclude?: boolean;
  /** --add-noqa: add `# noqa: CODE` to the line of every current finding. */
  addNoqa?: boolean;
  /** --add-noqa=REASON: written after the codes. */
  addNoqaReason?: string;
  /** --baseline FILE: ignore findings recorded there. */
  baseline?: string;
  /** --write-baseline FILE: record the current findings there. */
  writeBaseline?: string;
  /** --max-warnings N: exit 1 when there are more warnings than N. */
  maxWarnings?: number;
  /** --stdin-filename: where the source read from stdin lives. */
  stdinFilename?: string;
  /** Source read from stdin (path "-"). */
  stdin?: string;
  /** Text to lint instead of these files' contents on disk (the language server's open buffers). */
  overrides?: ReadonlyMap<string, string>;
  /** A progress line for long runs (only when stderr is a terminal: src/reporters/progress.ts). */
  progress?: ProgressSink;
  /** Print counts per rule instead of the findings. */
  statistics?: boolean;
  verify?: VerifyCliOptions;
  /** --fix: apply safe fixes (and unsafe ones with unsafeFixes). */
  fix?: boolean;
  /** --unsafe-fixes: fixes that may change behaviour count as available and --fix applies them. */
  unsafeFixes?: boolean;
  /** --fix-only: apply fixes, report nothing else. */
  fixOnly?: boolean;
  /** --diff: print the fixes as a unified diff and change nothing. */
  diff?: boolean;
  /** --show-fixes: list fixed findings (with --fix), or each finding's fix. */
  showFixes?: boolean;
  /** Parse workers (default: the machine's cores). */
  jobs?: number;
  /** Use the cache (default true). */
  cache?: boolean;
  /** Cache folder (default: .mps_lint_cache at the project root). */
  cacheDir?: string;
  /** Token prefilter with demand loading (default true). */
  prefilter?: boolean;
  /** Print phase timings to stderr as JSON (also MPS_LINT_TIMING=1). */
  timing?: boolean;
}

export interface VerifyCliOptions {
  python?: string;
  device?: string;
  /** --verify-timeout; unset: the configuration's verify.timeout, else 60. */
  timeoutS?: number;
  entry?: string;
  verbose: boolean;
  repeats?: number;
  /** --verify-memory MiB: resident-memory limit of the target's process tree (0: none). */
  memoryMb?: number;
}
