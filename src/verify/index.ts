// Public API of --verify and bench, for src/cli/cli.ts.
export { findPython, probePython, VerifyPythonError, type FoundPython, type PythonCandidate } from "./python.js";
export {
  runVerify,
  type VerifyDevice,
  type VerifyMeasurement,
  type VerifyOptions,
  type VerifyProgress,
  type VerifyReport,
  type VerifyTargetSummary,
} from "./run.js";
export { formatVerifyLine, formatVerifySummary, formatSeconds, formatRegime, formatKilled, withVerifyMeasurements } from "./format.js";
export { runBench } from "./bench.js";
export { nativeVerifyDir } from "./paths.js";
export { VERIFY_SCHEMA, type RunnerResult, type RunnerRequest } from "./schema.js";
