// `mps-lint trace -- <command>`: run the command with the runtime witness's hooks in every Python
// process it starts, and collect what each process saw.
//
// The hooks get in through PYTHONPATH: native-verify/trace-path holds a sitecustomize.py (which
// installs them, then runs the sitecustomize it shadows) and the mps_lint_trace package. Each
// process sends its record, when it exits, to a server this driver runs on the loopback
// interface (address and a random token in MPS_LINT_TRACE). Nothing is written to disk.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { constants } from "node:os";
import { join } from "node:path";

import { nativeVerifyDir } from "../verify/paths.js";
import { mergeObservations } from "./merge.js";
import { TRACE_SCHEMA, type ProcessRecord, type TraceRun } from "./types.js";

export type TraceDevice = "auto" | "cpu" | "cuda" | "mps" | "xpu";

export interface RunTraceOptions {
  command: string[];
  cwd: string;
  /** re-target device calls to this device (as --verify does); unset: the program runs as it is */
  device?: TraceDevice;
  env?: NodeJS.ProcessEnv;
  /** how long to wait for records still arriving once the command has exited (ms) */
  graceMs?: number;
}

/** The folder put on PYTHONPATH: sitecustomize.py and the mps_lint_trace package. */
export function tracePathDir(): string {
  const dir = join(nativeVerifyDir(), "trace-path");
  if (!existsSync(join(dir, "sitecustomize.py"))) throw new Error(`mps-lint: ${dir}/sitecustomize.py is missing from the installed package`);
  return dir;
}

/** The environment of the traced command: ours added, the user's kept. */
export function traceEnv(base: NodeJS.ProcessEnv, address: string, device: TraceDevice | undefined): NodeJS.ProcessEnv {
  const dir = tracePathDir();
  const env: NodeJS.ProcessEnv = { ...base };
  env.PYTHONPATH = base.PYTHONPATH ? `${dir}${process.platform === "win32" ? ";" : ":"}${base.PYTHONPATH}` : dir;
  env.MPS_LINT_TRACE = address;
  if (device) env.MPS_LINT_TRACE_DEVICE = device;
  else delete env.MPS_LINT_TRACE_DEVICE;
  return env;
}

function signalNumber(sig: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[sig] ?? 1;
}

/** Parses one process's payload: "token\n{json}". Returns null when it is not ours. */
export function parsePayload(text: string, token: string): ProcessRecord | string | null {
  const nl = text.indexOf("\n");
  if (nl < 0 || text.slice(0, nl) !== token) return null;
  try {
    const rec = JSON.parse(text.slice(nl + 1)) as ProcessRecord;
    if (rec.schema !== TRACE_SCHEMA) return `a process sent schema ${String(rec.schema)}, expected ${TRACE_SCHEMA}`;
    return rec;
  } catch (e) {
    return `a process sent a record that is not JSON (${(e as Error).message})`;
  }
}

export async function runTrace(opts: RunTraceOptions): Promise<TraceRun> {
  const token = randomBytes(16).toString("hex");
  // Each process sends cumulative snapshots while it runs and a final one at exit: keep its last.
  const latest = new Map<string, ProcessRecord>();
  const warnings: string[] = [];
  const open = new Set<Socket>();
  const server = createServer((sock) => {
    open.add(sock);
    const chunks: Buffer[] = [];
    let size = 0;
    sock.on("data", (c: Buffer) => {
      size += c.length;
      if (size > 256 * 1024 * 1024) {
        warnings.push("a process sent more than 256 MiB; its record was dropped");
        sock.destroy();
        return;
      }
      chunks.push(c);
    });
    sock.on("error", () => {
      /* a process that died mid-send: its record is incomplete and dropped below */
    });
    sock.on("close", () => {
      open.delete(sock);
      const parsed = parsePayload(Buffer.concat(chunks).toString("utf8"), token);
      if (parsed === null) return;
      if (typeof parsed === "string") {
        warnings.push(parsed);
        return;
      }
      const key = `${parsed.pid}:${parsed.started ?? ""}`;
      const had = latest.get(key);
      if (!had || (parsed.seq ?? 0) > (had.seq ?? 0)) latest.set(key, parsed);
    });
  });
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.listen(0, "127.0.0.1", () => res());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const env = traceEnv(opts.env ?? process.env, `127.0.0.1:${port}:${token}`, opts.device);

  const started = performance.now();
  const [cmd, ...args] = opts.command;
  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>((res) => {
    const child = spawn(cmd!, args, { cwd: opts.cwd, env, stdio: "inherit" });
    // Ctrl-C reaches the command (same process group); the driver stays to report. SIGTERM and
    // SIGHUP sent to the driver alone are passed on.
    const onInt = () => {};
    const pass = (sig: NodeJS.Signals) => () => {
      try {
        child.kill(sig);
      } catch {
        /* gone */
      }
    };
    const onTerm = pass("SIGTERM");
    const onHup = pass("SIGHUP");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    process.on("SIGHUP", onHup);
    const done = (r: { code: number | null; signal: NodeJS.Signals | null; error?: string }) => {
      process.removeListener("SIGINT", onInt);
      process.removeListener("SIGTERM", onTerm);
      process.removeListener("SIGHUP", onHup);
      res(r);
    };
    child.once("error", (e: NodeJS.ErrnoException) => {
      done({ code: e.code === "ENOENT" ? 127 : 126, signal: null, error: e.code === "ENOENT" ? `${cmd}: command not found` : `${cmd}: ${e.message}` });
    });
    child.once("exit", (code, signal) => done({ code, signal }));
  });
  const wallS = (performance.now() - started) / 1000;

  // Records of processes that exited with the command may still be on their way.
  const graceMs = opts.graceMs ?? 500;
  await new Promise((r) => setTimeout(r, graceMs));
  server.close();
  const deadline = Date.now() + 10_000;
  while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const s of open) s.destroy();

  if (outcome.error) warnings.push(outcome.error);
  const exitCode = outcome.signal ? 128 + signalNumber(outcome.signal) : (outcome.code ?? 1);
  const records = [...latest.values()].sort((a, b) => a.pid - b.pid);
  if (!outcome.error && records.length === 0) {
    warnings.push(
      "no Python process reported: the command started no Python, or its Python ignores PYTHONPATH (-E, -I), " +
        "or every process ended by a signal or os._exit before it could report",
    );
  }
  for (const r of records) {
    if (r.final === false) {
      warnings.push(
        `process ${r.pid} (${r.argv.slice(0, 3).join(" ")}) did not exit normally (a signal, os._exit): its record is the last snapshot taken while it ran`,
      );
    }
    const errors = Object.entries(r.hook_errors ?? {});
    if (errors.length > 0) warnings.push(`process ${r.pid}: ${errors.map(([k, n]) => `${k} (${n})`).join(", ")} inside the hooks (the program was not affected)`);
  }
  return {
    command: opts.command,
    exitCode,
    signal: outcome.signal,
    processes: records,
    ...mergeObservations(records),
    warnings,
    wallS,
  };
}
