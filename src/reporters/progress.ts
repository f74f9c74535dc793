// Progress of a long run on a terminal (as Ruff's and pytest's long runs show theirs): one line on
// stderr, rewritten in place, that says which stage the run is in, how far (files scanned, files
// parsed, modules checked, of how many) and the percent. Only on a terminal and never in CI: a
// pipe, a file or a CI log gets nothing. Shown once a run has taken about a second (a quick run
// never flickers), at most ten times a second, and erased before the report is written.
//
// The lint is synchronous, so the line is written from the run's own progress calls
// (LintProgress, src/facts/collect.ts and src/engine/engine.ts), never from a timer.

import type { LintProgress } from "../facts/collect.js";

/** Told where a run is; cleared before anything else is written (src/main.ts lint). */
export interface ProgressSink {
  update(p: LintProgress): void;
  clear(): void;
}

interface Stream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** A run shorter than this shows nothing. */
  delayMs?: number;
  /** At most one rewrite per this long (a new stage is shown at once). */
  intervalMs?: number;
  now?: () => number;
}

const ERASE = "\r\u001b[2K";

/** The progress line for `stream`, or none where it must not be shown (not a terminal, CI, TERM=dumb). */
export function progressFor(stream: Stream, env: NodeJS.ProcessEnv = process.env): ProgressSink | undefined {
  if (!stream.isTTY) return undefined;
  if (env.CI && env.CI !== "0" && env.CI !== "false") return undefined;
  if (env.TERM === "dumb") return undefined;
  return new ProgressLine(stream);
}

export class ProgressLine implements ProgressSink {
  private started: number | null = null;
  private written = -Infinity;
  private shown = false;
  private phase: LintProgress["phase"] | null = null;
  private readonly delayMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly stream: Stream,
    options: ProgressOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 1000;
    this.intervalMs = options.intervalMs ?? 100;
    this.now = options.now ?? (() => performance.now());
  }

  update(p: LintProgress): void {
    const t = this.now();
    this.started ??= t;
    if (t - this.started < this.delayMs) return;
    if (p.phase === this.phase && t - this.written < this.intervalMs) return;
    this.phase = p.phase;
    this.written = t;
    // Narrower than the terminal: a line that wraps cannot be erased with a carriage return.
    // A terminal of unknown size (0 columns, as a pseudo-terminal nobody sized) is taken as 80.
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    this.stream.write(ERASE + progressText(p).slice(0, width));
    this.shown = true;
  }

  /** Erase the line (if one was written) and start over: the next run waits its second again. */
  clear(): void {
    if (this.shown) this.stream.write(ERASE);
    this.shown = false;
    this.started = null;
    this.phase = null;
    this.written = -Infinity;
  }
}

/** `mps-lint: parsing files 52/104 (50%)`. */
export function progressText(p: LintProgress): string {
  const of = (what: string) => {
    const percent = p.total > 0 ? Math.min(100, Math.floor((100 * p.done) / p.total)) : 0;
    return `mps-lint: ${what} ${p.done}/${p.total} (${percent}%)`;
  };
  switch (p.phase) {
    case "scan":
      return of("reading files");
    case "parse":
      return of("parsing files");
    case "index":
      return `mps-lint: building the project model (${p.total} module${p.total === 1 ? "" : "s"})…`;
    case "check":
      return of("checking modules");
  }
}
