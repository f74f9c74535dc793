#!/usr/bin/env node
// npm run bench:lsp: the language server as an editor drives it, timed. A scripted LSP client
// (vscode-languageserver-protocol, the library VS Code's client is built on) starts the built
// server (`mps-lint server`) on a project and measures what a person in an editor waits for:
//
//   first diagnostics    from starting the server to the first diagnostics of an opened file,
//                        on a cold cache (fresh copy) and again on a second start (warm cache)
//   edit -> diagnostics  a scripted sequence of realistic edits (insert a line in thread code,
//                        type a `# noqa` comment a keystroke at a time, remove it, delete the
//                        line, shift a big file by a line, type in a docstring of a file that
//                        starts no thread); from the edit (the last keystroke of a burst) to the
//                        diagnostics of that version (publishDiagnostics' version, where the
//                        server sends it; else the first publication after the edit, with no
//                        analysis running when the edit is made).
//   hover, code action,  requests sent while an analysis runs (between an open or edit and its
//   completion           diagnostics), one every 25 ms whether or not the last was answered: the
//                        latency of each (a server deaf during analysis answers many late)
//   peak RSS             of the server process (VmHWM; worker threads included) at the end
//   --stdio              whether `mps-lint server --stdio` starts (many clients pass it)
//
//   npm run build && node bench/lsp.mjs [--project DIR] [--cli dist/bundle/bin.js]
//                                       [--label NAME] [--rounds 3] [--no-write]
//
// Default project: a copy of /usr/lib/python3/dist-packages/torch (Debian's torch 1.13, 1,141
// Python files) made into a temporary folder: its .py/.pyi files, no cache. Results are appended
// to bench/lsp-results.md under the label (default: the git branch and commit). The machine is
// often shared: the 1-minute load average is printed with the figures.

import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import rpc from "vscode-languageserver-protocol/node.js";

const { createProtocolConnection, StreamMessageReader, StreamMessageWriter } = rpc;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const CLI = path.resolve(flag("--cli", path.join(ROOT, "dist", "bundle", "bin.js")));
const SOURCE = path.resolve(flag("--project", "/usr/lib/python3/dist-packages/torch"));
const ROUNDS = Number(flag("--rounds", "3"));
const WRITE = !args.includes("--no-write");
const git = (...a) => spawnSync("git", a, { cwd: ROOT, encoding: "utf8" }).stdout.trim();
const LABEL = flag("--label", `${git("rev-parse", "--abbrev-ref", "HEAD")} ${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? " (uncommitted changes)" : ""}`);
if (!existsSync(CLI)) throw new Error(`${CLI}: no such file (npm run build)`);

// The files the script opens and edits (paths in torch's tree). A: thread code (the worker of
// parallel_apply's threading.Thread): a device sync inserted there is MPS001. B: a big file that
// starts threads (the DataLoader). C: a file that starts no thread and names no thread API.
const A = "nn/parallel/parallel_apply.py";
const A_ANCHOR = "                output = module(*input, **kwargs)\n";
const B = "utils/data/dataloader.py";
const C = "distributions/normal.py";

const log = (s) => process.stderr.write(s + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const fmt = (x) => (Number.isNaN(x) ? "-" : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`);
const stats = (xs) => (xs.length === 0 ? "- (no samples)" : `${fmt(pct(xs, 50))} / ${fmt(pct(xs, 95))} (n=${xs.length}, max ${fmt(Math.max(...xs))})`);

/** The project copy: Python sources only (no __pycache__, no binaries), no cache. */
function copyProject() {
  const dir = mkdtempSync(path.join(tmpdir(), "mps-lint-bench-lsp-"));
  const proj = path.join(dir, path.basename(SOURCE));
  cpSync(SOURCE, proj, {
    recursive: true,
    filter: (src) => {
      const base = path.basename(src);
      if (base === "__pycache__" || base === ".mps_lint_cache" || base === ".git") return false;
      return !/\.[A-Za-z0-9]+$/.test(base) || /\.(py|pyi|ipynb|toml)$/.test(base);
    },
  });
  return { dir, proj };
}

/** A server process and a client connection to it. */
function startServer(proj, extra = []) {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [CLI, "server", ...extra], { cwd: proj, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  const published = []; // { uri, version, diagnostics, t }
  const waiters = [];
  const progress = []; // { token, kind, message, percentage, t }
  conn.onNotification("textDocument/publishDiagnostics", (p) => {
    const m = { ...p, t: performance.now() };
    published.push(m);
    for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i].test(m)) waiters.splice(i, 1)[0].resolve(m);
  });
  conn.onRequest("window/workDoneProgress/create", () => null);
  conn.onRequest("client/registerCapability", () => null);
  conn.onRequest("workspace/configuration", (p) => p.items.map(() => null));
  conn.onNotification("$/progress", (p) => progress.push({ token: p.token, ...p.value, t: performance.now() }));
  const logs = [];
  conn.onNotification("window/logMessage", (p) => logs.push(`${(performance.now() - t0).toFixed(0)} ms: ${p.message}`));
  conn.listen();
  const exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  return {
    proc,
    conn,
    t0,
    published,
    progress,
    exited,
    stderr: () => stderr,
    logs,
    /** The next publication for `uri` that passes `test`, counting those since `since`. */
    diagnostics(uri, since, test = () => true) {
      const seen = published.find((m) => m.uri === uri && m.t >= since && test(m));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ test: (m) => m.uri === uri && m.t >= since && test(m), resolve }));
    },
  };
}

async function initialize(s, proj) {
  const init = await s.conn.sendRequest("initialize", {
    processId: process.pid,
    rootUri: pathToFileURL(proj).href,
    workspaceFolders: [{ uri: pathToFileURL(proj).href, name: path.basename(proj) }],
    capabilities: {
      window: { workDoneProgress: true },
      textDocument: {
        publishDiagnostics: { relatedInformation: true, versionSupport: true },
        hover: { contentFormat: ["markdown", "plaintext"] },
        completion: { completionItem: { snippetSupport: false } },
      },
      workspace: { didChangeWatchedFiles: { dynamicRegistration: true } },
    },
  });
  s.conn.sendNotification("initialized", {});
  return init.result ?? init;
}

async function stop(s) {
  const rss = vmHWM(s.proc.pid);
  try {
    await Promise.race([s.conn.sendRequest("shutdown", null), sleep(30_000)]);
    s.conn.sendNotification("exit", null);
  } catch {
    /* gone */
  }
  const code = await Promise.race([s.exited, sleep(10_000).then(() => "timeout")]);
  if (code === "timeout") s.proc.kill();
  s.conn.dispose();
  return { rss, code };
}

/** CPU time (user + system, all threads) a process has used so far, in ms (Linux /proc; NaN elsewhere). */
const TICK_MS = 1000 / Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100);
function cpuMs(pid) {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return NaN;
  }
}

/** Peak resident memory of a process (MB), threads included. */
function vmHWM(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Requests sent every 25 ms, answered or not (as a person moving the pointer over the code), from
 * an edit until `done` settles: the latency of each, by kind. A server that blocks while it
 * analyses answers a request sent at its start after the whole analysis, one sent near its end
 * quickly: timed at a steady rate, the share of slow answers is the share of time it was deaf.
 */
async function probe(s, done, caps, docs) {
  let finished = false;
  done.then(() => (finished = true));
  const out = { hover: [], codeAction: [], completion: [] };
  const [a] = docs;
  const line = a.text.split("\n").findIndex((l) => l.includes("module(*input"));
  const kinds = ["hover", "codeAction", ...(caps.completionProvider ? ["completion"] : [])];
  const sent = [];
  for (let k = 0; !finished; k++) {
    const kind = kinds[k % kinds.length];
    const t = performance.now();
    const request =
      kind === "hover"
        ? s.conn.sendRequest("textDocument/hover", { textDocument: { uri: a.uri }, position: { line, character: 20 } })
        : kind === "codeAction"
          ? s.conn.sendRequest("textDocument/codeAction", {
              textDocument: { uri: a.uri },
              range: { start: { line, character: 0 }, end: { line, character: 40 } },
              context: { diagnostics: [] },
            })
          : s.conn.sendRequest("textDocument/completion", { textDocument: { uri: a.uri }, position: { line, character: a.text.split("\n")[line].length } });
    sent.push(request.then(() => out[kind].push(performance.now() - t)));
    await Promise.race([sleep(25), done]);
  }
  await Promise.all(sent);
  return out;
}

class Doc {
  constructor(proj, rel) {
    this.file = path.join(proj, rel);
    this.uri = pathToFileURL(this.file).href;
    this.text = readFileSync(this.file, "utf8");
    this.version = 1;
    this.rel = rel;
  }
  open(s) {
    s.conn.sendNotification("textDocument/didOpen", { textDocument: { uri: this.uri, languageId: "python", version: this.version, text: this.text } });
  }
  /** Replace `[start, end)` (offsets) by `text`, as an incremental change. */
  change(s, start, end, text) {
    const posOf = (off) => {
      const before = this.text.slice(0, off).split("\n");
      return { line: before.length - 1, character: before[before.length - 1].length };
    };
    const range = { start: posOf(start), end: posOf(end) };
    this.text = this.text.slice(0, start) + text + this.text.slice(end);
    this.version++;
    s.conn.sendNotification("textDocument/didChange", { textDocument: { uri: this.uri, version: this.version }, contentChanges: [{ range, text }] });
    return performance.now();
  }
}

const KEYSTROKE_MS = 40;

/**
 * The scripted edits of one round: [name, doc, apply (returns the time of its last change)].
 * On torch's own sources `torch` is a project package, so `torch.cuda.synchronize()` there is
 * torch's own function, not the device sync of the vocabulary: these edits change no finding.
 * That each publication is of the edited text is checked by its version (versionSupport).
 */
function script(a, b, c) {
  const SYNC = "                torch.cuda.synchronize()";
  const NOQA = "  # noqa: MPS001";
  /** Where a text is in a document (it must be there: an edit at a wrong offset would diverge from the server's copy). */
  const at = (doc, text, from = 0) => {
    const i = doc.text.indexOf(text, from);
    if (i < 0) throw new Error(`${doc.rel}: ${JSON.stringify(text)} not found`);
    return i;
  };
  const syncEnd = () => at(a, SYNC) + SYNC.length;
  const typeAt = async (s, doc, offset, text) => {
    let t = 0;
    for (let i = 0; i < text.length; i++) {
      t = doc.change(s, offset + i, offset + i, text[i]);
      if (i < text.length - 1) await sleep(KEYSTROKE_MS);
    }
    return t;
  };
  const after = () => at(a, A_ANCHOR) + A_ANCHOR.length;
  const docstring = () => at(c, '"""') + 3;
  return [
    ["A: insert a line (a device sync) in thread code", a, async (s) => a.change(s, after(), after(), SYNC + "\n")],
    ["A: type `  # noqa: MPS001` after it, a key every 40 ms", a, async (s) => typeAt(s, a, syncEnd(), NOQA)],
    ["A: delete that comment", a, async (s) => a.change(s, syncEnd(), at(a, "\n", syncEnd()), "")],
    ["A: delete the line", a, async (s) => a.change(s, at(a, SYNC), syncEnd() + 1, "")],
    ["B: insert a line at the top of a 1,400-line file that starts threads", b, async (s) => b.change(s, 0, 0, "# edited\n")],
    ["B: remove it", b, async (s) => b.change(s, 0, "# edited\n".length, "")],
    ["C: type a word in a docstring of a file that starts no thread", c, async (s) => typeAt(s, c, docstring(), "edit ")],
    ["C: undo it", c, async (s) => c.change(s, docstring(), docstring() + "edit ".length, "")],
  ];
}

async function session(proj, { rounds, label }) {
  const s = startServer(proj);
  const caps = (await initialize(s, proj)).capabilities;
  const a = new Doc(proj, A);
  const b = new Doc(proj, B);
  const c = new Doc(proj, C);
  const opened = performance.now();
  for (const d of [a, b, c]) d.open(s);
  const first = s.diagnostics(a.uri, 0);
  const during = rounds > 0 ? await probe(s, first, caps, [a]) : { hover: [], codeAction: [], completion: [] };
  const firstMsg = await first;
  const firstCpu = cpuMs(s.proc.pid);
  const result = {
    label,
    firstFromStart: firstMsg.t - s.t0,
    firstFromOpen: firstMsg.t - opened,
    firstCpu,
    progress: s.progress.filter((p) => p.kind === "begin").length > 0,
    during,
    edits: [],
    wrong: [],
    caps,
  };
  log(`  first diagnostics ${fmt(result.firstFromStart)} after start (${fmt(result.firstFromOpen)} after open, ${fmt(firstCpu)} CPU), ${during.hover.length} hovers meanwhile`);
  // Let the server settle (the other documents' first publication, any background work).
  await sleep(500);
  for (let r = 0; r < rounds; r++) {
    for (const [name, doc, apply] of script(a, b, c)) {
      const sent = performance.now();
      let last = sent;
      const applied = apply(s).then((t) => (last = t));
      await applied;
      const version = doc.version;
      // With versionSupport the server names the version it linted; without, the first publication after the edit.
      const got = s.diagnostics(doc.uri, last, (m) => m.version === undefined || m.version === null || m.version >= version);
      const probes = probe(s, got, caps, [a]);
      const m = await got;
      const p = await probes;
      result.during.hover.push(...p.hover);
      result.during.codeAction.push(...p.codeAction);
      result.during.completion.push(...p.completion);
      const latency = m.t - last;
      result.edits.push({ name, latency });
      if (typeof m.version === "number" && m.version !== version) result.wrong.push(`${name}: diagnostics of version ${m.version}, the document is at ${version}`);
      log(`  ${fmt(latency).padStart(8)}  ${name}`);
      s.logs.push(`${(m.t - s.t0).toFixed(0)} ms: bench: ${name}: diagnostics of version ${m.version}`);
      await sleep(300);
    }
  }
  // Every edit was undone: the script's copies are the files again (else an edit went astray and
  // the server's copy differs from the script's).
  for (const d of [a, b, c]) if (d.text !== readFileSync(d.file, "utf8")) throw new Error(`${d.rel}: the edits did not undo (bench bug)`);
  const { rss, code } = await stop(s);
  result.rss = rss;
  result.exitCode = code;
  result.stderr = s.stderr();
  if (process.env.BENCH_LSP_LOG) appendFileSync(process.env.BENCH_LSP_LOG, `${label}\n${s.logs.join("\n")}\n`);
  return result;
}

/** Does `mps-lint server --stdio` start and answer initialize? */
async function stdioAccepted(proj) {
  const s = startServer(proj, ["--stdio"]);
  const r = await Promise.race([initialize(s, proj).then(() => "ok"), s.exited.then((code) => `exit ${code}`), sleep(30_000).then(() => "no answer in 30 s")]);
  if (r === "ok") await stop(s);
  else s.proc.kill();
  return r === "ok" ? "accepted" : `not accepted (${r}: ${s.stderr().trim().split("\n")[0] ?? ""})`;
}

const load0 = loadavg()[0];
const { dir, proj } = copyProject();
const files = spawnSync("find", [proj, "-name", "*.py"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).length;
log(`lsp bench: ${LABEL}; ${files} .py files copied to ${proj}`);
let cold, warm, stdio;
try {
  log("cold cache:");
  cold = await session(proj, { rounds: ROUNDS, label: "cold" });
  log("second start (warm cache):");
  warm = await session(proj, { rounds: 0, label: "warm" });
  stdio = await stdioAccepted(proj);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const load1 = loadavg()[0];

const edits = cold.edits.map((e) => e.latency);
const byEdit = new Map();
for (const e of cold.edits) byEdit.set(e.name, [...(byEdit.get(e.name) ?? []), e.latency]);
const lines = [
  ``,
  `## ${LABEL}`,
  ``,
  `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; ${availableParallelism()} cores, Node ${process.version}; 1-minute load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end${Math.max(load0, load1) > availableParallelism() ? " (other work competed for the cores: wall times inflated)" : ""}.`,
  `Project: a copy of ${SOURCE} (${files} .py files); ${ROUNDS} rounds of ${ROUNDS > 0 ? cold.edits.length / ROUNDS : 0} edits.`,
  ``,
  `| Figure | Value | Target (issue 25) |`,
  `|---|---|---|`,
  `| First diagnostics, cold cache (server start -> first publication) | ${fmt(cold.firstFromStart)} (${fmt(cold.firstFromOpen)} after didOpen; server CPU ${fmt(cold.firstCpu)}) | <= 2 s |`,
  `| First diagnostics, second start (warm cache) | ${fmt(warm.firstFromStart)} (${fmt(warm.firstFromOpen)} after didOpen; server CPU ${fmt(warm.firstCpu)}) | <= 2 s |`,
  `| Edit -> diagnostics, p50 / p95 | ${stats(edits)} | p95 <= 150 ms |`,
  `| Hover while an analysis runs, p50 / p95 | ${stats(cold.during.hover)} | p95 <= 20 ms |`,
  `| Code action while an analysis runs, p50 / p95 | ${stats(cold.during.codeAction)} | |`,
  `| \`# noqa\` completion while an analysis runs, p50 / p95 | ${cold.caps.completionProvider ? stats(cold.during.completion) : "not offered"} | |`,
  `| \`$/progress\` during the first analysis | ${cold.progress ? "yes" : "no"} | yes |`,
  `| Peak RSS of the server (cold session) | ${cold.rss.toFixed(0)} MB | |`,
  `| \`mps-lint server --stdio\` | ${stdio} | accepted |`,
  ``,
  `Edit -> diagnostics by edit (p50 / max over the rounds):`,
  ``,
  ...[...byEdit].map(([name, xs]) => `- ${name}: ${fmt(pct(xs, 50))} / ${fmt(Math.max(...xs))}`),
  ...(cold.wrong.length > 0 ? [``, `**Stale diagnostics timed**: ${cold.wrong.join("; ")}`] : []),
  ...(cold.stderr.trim() || warm.stderr.trim() ? [``, `Server stderr: \`${(cold.stderr + warm.stderr).trim().split("\n").slice(0, 3).join(" | ")}\``] : []),
  ``,
];
process.stdout.write(lines.join("\n"));
if (WRITE) {
  const out = path.join(ROOT, "bench", "lsp-results.md");
  if (!existsSync(out)) {
    appendFileSync(
      out,
      "# mps-lint language server benchmark\n\nAppended by `npm run bench:lsp` (bench/lsp.mjs), one section per measured build, newest last.\nWhat is measured and how: the header of bench/lsp.mjs.\n",
    );
  }
  appendFileSync(out, lines.join("\n"));
  log(`appended to ${path.relative(process.cwd(), out)}`);
}
