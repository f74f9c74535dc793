// What the command line asks for, after yargs: plain data for the rest of the pipeline.

export interface CliOptions {
  paths: string[];
  cwd: string;
  format: string;
  outputFile?: string;
  quiet: boolean;
  exitZero: boolean;
  color: boolean;
  select?: string[];
  ignore?: string[];
  extendSelect?: string[];
  verify?: VerifyCliOptions;
  /** Parse workers (default: the machine's cores). */
  jobs?: number;
  /** Use the cache (default true). */
  cache?: boolean;
  /** Cache folder (default: .mps_lint_cache in cwd). */
  cacheDir?: string;
  /** Token prefilter with demand loading (default true). */
  prefilter?: boolean;
  /** Print phase timings to stderr as JSON (also MPS_LINT_TIMING=1). */
  timing?: boolean;
}

export interface VerifyCliOptions {
  python?: string;
  device?: string;
  timeoutS: number;
  entry?: string;
  verbose: boolean;
  repeats?: number;
}
