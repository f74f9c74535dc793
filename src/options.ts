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
  /** Print counts per rule instead of the findings. */
  statistics?: boolean;
  verify?: VerifyCliOptions;
}

export interface VerifyCliOptions {
  python?: string;
  device?: string;
  timeoutS: number;
  entry?: string;
  verbose: boolean;
  repeats?: number;
}
