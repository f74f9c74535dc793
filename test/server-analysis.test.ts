// The language server as an editor drives it (the built bin, `mps-lint server`, a real LSP client:
// vscode-languageserver-protocol, the library VS Code's client is built on), on real Python files:
// the cross-module fixture (a sync reached from a thread started in another module) beside a copy
// of torch's own torch/utils package (130 files, Debian's torch).
//   - the server answers while it analyses: a hover, a code action and a `# noqa` completion sent
//     during the first analysis (after its $/progress began) are answered before its diagnostics;
//   - after each edit of a scripted sequence, the published diagnostics equal a from-scratch run
//     of the CLI (--no-cache) over the same text;
//   - transports: --stdio, --node-ipc, --socket=PORT; a bad transport flag is a usage error.
// No timing is asserted (speed lives in bench/lsp.mjs).
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import rpc from "vscode-languageserver-protocol/node.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "./cli.js";

const { createProtocolConnection, StreamMessageReader, StreamMessageWriter, IPCMessageReader, IPCMessageWriter } = rpc;
type Connection = ReturnType<typeof createProtocolConnection>;

const TORCH_UTILS = "/usr/lib/python3/dist-packages/torch/utils";
const hasTorch = existsSync(path.join(TORCH_UTILS, "data", "dataloader.py"));

interface Published {
  uri: string;
  version?: number;
  diagnostics: any[];
  /** Arrival order among everything the client received. */
  seq: number;
}

/** A client over a connection: every notification and response numbered in order of arrival. */
class Client {
  seq = 0;
  readonly published: Published[] = [];
  readonly progress: { kind: string; seq: number }[] = [];
  private readonly waiters: { test: (p: Published) => boolean; resolve: (p: Published) => void }[] = [];

  /** `proc`: the server; a request it exits before answering fails with its stderr. */
  constructor(
    readonly conn: Connection,
    private readonly proc?: ChildProcess,
    private readonly stderr: () => string = () => "",
  ) {
    conn.onNotification("textDocument/publishDiagnostics", (p: any) => {
      const m = { ...p, seq: ++this.seq };
      this.published.push(m);
      for (let i = this.waiters.length - 1; i >= 0; i--) if (this.waiters[i].test(m)) this.waiters.splice(i, 1)[0].resolve(m);
    });
    conn.onNotification("$/progress", (p: any) => this.progress.push({ kind: p.value.kind, seq: ++this.seq }));
    conn.onRequest("window/workDoneProgress/create", () => null);
    conn.onRequest("client/registerCapability", () => null);
    conn.listen();
  }

  /** A request, and the arrival number of its response. */
  async request(method: string, params: unknown): Promise<{ result: any; seq: number }> {
    const result = await this.conn.sendRequest(method, params);
    return { result, seq: ++this.seq };
  }

  /** The first publication (already received or to come) that passes `test`. */
  diagnostics(test: (p: Published) => boolean): Promise<Published> {
    const seen = this.published.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** The latest diagnostics published for `uri`. */
  latest(uri: string): any[] {
    for (let i = this.published.length - 1; i >= 0; i--) if (this.published[i].uri === uri) return this.published[i].diagnostics;
    return [];
  }

  async initialize(root: string): Promise<any> {
    const exited = this.proc
      ? new Promise<never>((_, reject) => this.proc!.once("exit", (code) => reject(new Error(`the server exited (${code}): ${this.stderr()}`))))
      : new Promise<never>(() => {});
    const init = await Promise.race([exited, this.conn.sendRequest("initialize", {
      processId: process.pid,
      rootUri: pathToFileURL(root).href,
      capabilities: { window: { workDoneProgress: true }, textDocument: { publishDiagnostics: { versionSupport: true } } },
    })]);
    this.conn.sendNotification("initialized", {});
    return init;
  }

  async shutdown(proc: ChildProcess): Promise<number | null> {
    await this.conn.sendRequest("shutdown", null);
    const exited = new Promise<number | null>((resolve) => proc.on("exit", resolve));
    this.conn.sendNotification("exit", null);
    const code = await exited;
    this.conn.dispose();
    return code;
  }
}

function spawnServer(cwd: string, args: string[] = []): { proc: ReturnType<typeof spawn>; client: Client; stderr: () => string } {
  const proc = spawn(process.execPath, [CLI, "server", ...args], { cwd, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  const client = new Client(createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!)), proc, () => stderr);
  return { proc, client, stderr: () => stderr };
}

class Doc {
  readonly uri: string;
  version = 1;
  constructor(
    readonly file: string,
    public text: string,
  ) {
    this.uri = pathToFileURL(file).href;
  }
  open(c: Client): void {
    c.conn.sendNotification("textDocument/didOpen", { textDocument: { uri: this.uri, languageId: "python", version: this.version, text: this.text } });
  }
  /** Replace the first occurrence of `from` by `to`, as an incremental change (as editors send them). */
  replace(c: Client, from: string, to: string): void {
    const at = this.text.indexOf(from);
    if (at < 0) throw new Error(`${path.basename(this.file)}: "${from}" not found`);
    this.change(c, at, at + from.length, to);
  }
  /** Replace `from` by `to` as typing does: delete it, then one change per character, 60 ms apart (past the server's debounce: each starts an analysis that the next supersedes). */
  async type(c: Client, from: string, to: string): Promise<void> {
    const at = this.text.indexOf(from);
    if (at < 0) throw new Error(`${path.basename(this.file)}: "${from}" not found`);
    this.change(c, at, at + from.length, "");
    for (let i = 0; i < to.length; i++) {
      this.change(c, at + i, at + i, to[i]);
      await new Promise((r) => setTimeout(r, 60));
    }
  }
  private change(c: Client, start: number, end: number, text: string): void {
    const posOf = (off: number) => {
      const lines = this.text.slice(0, off).split("\n");
      return { line: lines.length - 1, character: lines[lines.length - 1].length };
    };
    const range = { start: posOf(start), end: posOf(end) };
    this.text = this.text.slice(0, start) + text + this.text.slice(end);
    this.version++;
    c.conn.sendNotification("textDocument/didChange", { textDocument: { uri: this.uri, version: this.version }, contentChanges: [{ range, text }] });
  }
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "mps-lint-server-analysis-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The fixture's `app` package and torch/utils as `tutils`, without caches. */
function makeProject(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(path.join(ROOT, "fixtures", "device-sync-in-thread", "cross_module"), dir, { recursive: true });
  cpSync(TORCH_UTILS, path.join(dir, "tutils"), { recursive: true, filter: (src) => path.basename(src) !== "__pycache__" });
  return dir;
}

/** Findings as the CLI gives them from scratch (--no-cache) for these files, in the LSP's terms. */
function fromScratch(root: string, files: string[]): Map<string, { code: string; message: string; severity: number; range: unknown }[]> {
  const r = spawnSync(process.execPath, [CLI, "--no-cache", "-f", "json", "."], { cwd: root, encoding: "utf8", timeout: 120_000 });
  expect(r.status === 0 || r.status === 1, r.stderr).toBe(true);
  const severity: Record<string, number> = { error: 1, warning: 2, info: 3 };
  const out = new Map(files.map((f) => [f, [] as { code: string; message: string; severity: number; range: unknown }[]]));
  for (const d of JSON.parse(r.stdout)) {
    const file = path.resolve(root, d.filename);
    out.get(file)?.push({
      code: d.code,
      message: d.message,
      severity: severity[d.severity],
      range: { start: { line: d.location.row - 1, character: d.location.column - 1 }, end: { line: d.end_location.row - 1, character: d.end_location.column - 1 } },
    });
  }
  return out;
}

const asPublished = (ds: any[]) => ds.map((d) => ({ code: d.code, message: d.message, severity: d.severity, range: d.range }));

describe.skipIf(!hasTorch)("mps-lint server: analysis off the request path, edits equal to a from-scratch run", () => {
  let root: string;
  beforeAll(() => {
    root = makeProject("project");
  });

  it("answers hover, code action and # noqa completion while the first analysis runs, before its diagnostics", async () => {
    const dir = makeProject("first");
    const { proc, client, stderr } = spawnServer(dir);
    await client.initialize(dir);
    const file = path.join(dir, "app", "engine", "sync.py");
    // A noqa being typed on the sync no thread reaches (line 9).
    const doc = new Doc(file, readFileSync(file, "utf8").replace("# ok: MPS001 (never reached from a thread)", "# noqa: "));
    doc.open(client);
    // The analysis has started once its progress begins (diagnostics first: there was no progress).
    await Promise.race([
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (client.progress.some((p) => p.kind === "begin")) resolve(clearInterval(check));
        }, 1);
      }),
      client.diagnostics((p) => p.uri === doc.uri).then(() => {
        throw new Error("diagnostics came before any $/progress of the analysis");
      }),
    ]);
    const noqaLine = 8;
    const endOfNoqa = { line: noqaLine, character: doc.text.split("\n")[noqaLine].length };
    const hover = await client.request("textDocument/hover", { textDocument: { uri: doc.uri }, position: { line: 4, character: 10 } });
    const action = await client.request("textDocument/codeAction", {
      textDocument: { uri: doc.uri },
      range: { start: { line: 4, character: 0 }, end: { line: 4, character: 10 } },
      context: { diagnostics: [] },
    });
    const completion = await client.request("textDocument/completion", { textDocument: { uri: doc.uri }, position: endOfNoqa });
    const first = await client.diagnostics((p) => p.uri === doc.uri);
    // Answered before the analysis ended: nothing found yet (no hover, no fix); the codes to complete.
    for (const r of [hover, action, completion]) expect(r.seq).toBeLessThan(first.seq);
    expect(hover.result).toBeNull();
    expect(action.result).toEqual([]);
    const mps001 = completion.result.find((i: any) => i.label === "MPS001");
    expect(mps001.textEdit).toEqual({ range: { start: endOfNoqa, end: endOfNoqa }, newText: "MPS001" });
    expect(completion.result.map((i: any) => i.label)).toContain("MPS004");
    // The progress of the first analysis: begun, reported, ended.
    expect(client.progress.filter((p) => p.kind === "report").length).toBeGreaterThan(0);
    expect(client.progress.find((p) => p.kind === "end")).toBeDefined();
    // Then the finding, its hover (with the rule page shipped in the package) and its fix.
    expect(first.diagnostics.map((d: any) => [d.code, d.range.start.line])).toEqual([["MPS001", 4]]);
    const after = await client.request("textDocument/hover", { textDocument: { uri: doc.uri }, position: { line: 4, character: 10 } });
    expect(after.result.contents.value).toMatch(/^\*\*MPS001\*\* device-sync-in-thread: /);
    const page = pathToFileURL(path.join(ROOT, "docs", "rules", "device-sync-in-thread.md")).href;
    expect(after.result.contents.value).toContain(`](${page})`);
    expect(first.diagnostics[0].codeDescription).toEqual({ href: page });
    expect(await client.shutdown(proc)).toBe(0);
    expect(stderr()).toBe("");
  });

  it("after each edit of a scripted sequence, publishes what a from-scratch run finds for the same text", async () => {
    const scratch = makeProject("scratch");
    const { proc, client, stderr } = spawnServer(root);
    await client.initialize(root);
    const open = (rel: string) => {
      const doc = new Doc(path.join(root, rel), readFileSync(path.join(root, rel), "utf8"));
      doc.open(client);
      return doc;
    };
    const sync = open("app/engine/sync.py");
    const batch = open("app/engine/batch.py");
    const serve = open("app/serve.py");
    // torch's DataLoader pin-memory thread code, and a file no thread code reaches that names no
    // thread API (the server answers its edits from the last findings, without a lint).
    const pin = open("tutils/data/_utils/pin_memory.py");
    const hooks = open("tutils/hooks.py");
    const docs = [sync, batch, serve, pin, hooks];
    const first = await client.diagnostics((p) => p.uri === sync.uri);
    expect(first.diagnostics.map((d: any) => d.code)).toEqual(["MPS001"]);

    // Typed steps send a change per keystroke: analyses started on the way are superseded (cancelled).
    const steps: [string, Doc, string, string, "typed"?][] = [
      ["type in a file no thread reaches", hooks, "import", "import  "],
      ["a noqa silences the finding", sync, "# expect: MPS001", "# noqa: MPS001", "typed"],
      ["the thread starts the other path only", serve, "self.executor.submit(batch.run_batch, self.model, x)", "batch.run_batch(self.model, x)"],
      ["the noqa goes", sync, "# noqa: MPS001", ""],
      ["that file now names a thread API", hooks, "import  ", "import threading  # Thread\nimport "],
      ["the other path no longer syncs", batch, "    wait_all()\n", "    pass\n", "typed"],
      ["a sync in torch's pin-memory thread", pin, "    torch.cuda.set_device(device_id)\n", "    torch.cuda.set_device(device_id)\n    torch.cuda.synchronize()\n"],
      ["both threads start again", serve, "batch.run_batch(self.model, x)", "self.executor.submit(batch.run_batch, self.model, x)"],
      ["the second sync becomes reachable", batch, "    pass\n", "    sync.wait_unused()\n"],
    ];
    for (const [name, doc, from, to, typed] of steps) {
      if (typed) await doc.type(client, from, to);
      else doc.replace(client, from, to);
      await client.diagnostics((p) => p.uri === doc.uri && p.version === doc.version);
      // Whatever was published with it arrives before the answer to a later request.
      await client.request("textDocument/hover", { textDocument: { uri: doc.uri }, position: { line: 0, character: 0 } });
      const inScratch = (d: Doc) => path.join(scratch, path.relative(root, d.file));
      for (const d of docs) writeFileSync(inScratch(d), d.text);
      const expected = fromScratch(scratch, docs.map(inScratch));
      for (const d of docs) expect(asPublished(client.latest(d.uri)), `${name}: ${path.relative(root, d.file)}`).toEqual(expected.get(inScratch(d)));
    }
    // The sequence changed what was found: the two syncs in sync.py, reached again.
    expect(client.latest(sync.uri).map((d: any) => d.code)).toEqual(["MPS001", "MPS001"]);
    expect(await client.shutdown(proc)).toBe(0);
    expect(stderr()).toBe("");
  });
});

describe("mps-lint server: transports", () => {
  const dir = path.join(tmp, "transports");
  beforeAll(() => cpSync(path.join(ROOT, "fixtures", "device-sync-in-thread", "cross_module"), dir, { recursive: true }));

  /** Open sync.py and get its MPS001: the server works over this connection. */
  async function works(client: Client): Promise<void> {
    await client.initialize(dir);
    const file = path.join(dir, "app", "engine", "sync.py");
    const doc = new Doc(file, readFileSync(file, "utf8"));
    doc.open(client);
    const p = await client.diagnostics((m) => m.uri === doc.uri);
    expect(p.diagnostics.map((d: any) => d.code)).toEqual(["MPS001"]);
  }

  it("--stdio (what many clients pass) and no flag both talk over standard input and output", async () => {
    for (const args of [["--stdio"], []]) {
      const { proc, client, stderr } = spawnServer(dir, args);
      await works(client);
      expect(await client.shutdown(proc)).toBe(0);
      expect(stderr()).toBe("");
    }
  });

  it("--node-ipc: over Node's IPC channel (the editor forks the server)", async () => {
    const proc = fork(CLI, ["server", "--node-ipc"], { cwd: dir, stdio: ["pipe", "pipe", "pipe", "ipc"] });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const client = new Client(createProtocolConnection(new IPCMessageReader(proc), new IPCMessageWriter(proc)), proc, () => stderr);
    await works(client);
    expect(await client.shutdown(proc)).toBe(0);
    expect(stderr).toBe("");
  });

  it("--socket=PORT: connects to the editor's port", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    const connected = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
    const proc = spawn(process.execPath, [CLI, "server", `--socket=${port}`], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const socket = await connected;
    const client = new Client(createProtocolConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket)), proc, () => stderr);
    await works(client);
    expect(await client.shutdown(proc)).toBe(0);
    expect(stderr).toBe("");
    server.close();
  });

  it("exits (1, quietly) when the editor closes its input without shutdown, mid-analysis", async () => {
    const { proc, client, stderr } = spawnServer(dir);
    await client.initialize(dir);
    const file = path.join(dir, "app", "engine", "sync.py");
    new Doc(file, readFileSync(file, "utf8")).open(client);
    // Once the analysis has begun (everything the client wrote has arrived), the input closes.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (client.progress.some((p) => p.kind === "begin")) resolve(clearInterval(check));
      }, 1);
    });
    const exited = new Promise<number | null>((resolve) => proc.on("exit", resolve));
    client.conn.dispose();
    proc.stdin!.end();
    expect(await exited).toBe(1);
    expect(stderr()).toBe("");
  });

  it("a bad transport is a usage error (exit 2) that says what is wrong", () => {
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, "server", ...args], { cwd: dir, encoding: "utf8", input: "", timeout: 60_000 });
    const noChannel = run(["--node-ipc"]);
    expect(noChannel.status).toBe(2);
    expect(noChannel.stderr).toMatch(/--node-ipc needs an IPC channel/);
    const port = run(["--socket=abc"]);
    expect(port.status).toBe(2);
    expect(port.stderr).toMatch(/--socket expects a port number, got "abc"/);
    const two = run(["--stdio", "--node-ipc"]);
    expect(two.status).toBe(2);
    expect(two.stderr).toMatch(/choose one of --stdio, --node-ipc, --socket, --pipe/);
  });
});
