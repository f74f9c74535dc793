// `mps-lint server` driven as an editor drives it: the built bin started with `server`, JSON-RPC
// with Content-Length framing over its stdin/stdout, on a copy of a cross-module fixture (the
// sync is in one module, the thread that reaches it in another: project context).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, ROOT } from "./cli.js";

interface Message {
  id?: number;
  method?: string;
  params?: any;
  result?: any;
  error?: unknown;
}

/** A minimal LSP client: framing, requests by id, notifications in arrival order. */
class Client {
  private buf = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, (m: Message) => void>();
  private readonly waiters: { test: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  readonly notifications: Message[] = [];

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (;;) {
        const end = this.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(this.buf.subarray(0, end).toString())![1]);
        if (this.buf.length < end + 4 + length) return;
        const msg = JSON.parse(this.buf.subarray(end + 4, end + 4 + length).toString("utf8")) as Message;
        this.buf = this.buf.subarray(end + 4 + length);
        if (msg.id !== undefined && !msg.method) this.pending.get(msg.id)?.(msg);
        else {
          this.notifications.push(msg);
          const i = this.waiters.findIndex((w) => w.test(msg));
          if (i >= 0) this.waiters.splice(i, 1)[0].resolve(msg);
        }
      }
    });
  }

  private send(m: object): void {
    const body = JSON.stringify({ jsonrpc: "2.0", ...m });
    this.proc.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  request(method: string, params: unknown): Promise<Message> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send({ id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    this.send({ method, params });
  }

  /** The next notification (not yet seen) that passes `test`. */
  next(test: (m: Message) => boolean): Promise<Message> {
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "mps-lint-server-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("mps-lint server (LSP over stdio)", () => {
  it("publishes MPS001 with its witness path, offers the fix with its safety, hovers, and follows edits", async () => {
    cpSync(path.join(ROOT, "fixtures", "device-sync-in-thread", "cross_module"), tmp, { recursive: true });
    const syncFile = path.join(tmp, "app", "engine", "sync.py");
    const uri = pathToFileURL(syncFile).href;
    const text = readFileSync(syncFile, "utf8");
    const proc = spawn(process.execPath, [CLI, "server"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    const client = new Client(proc);
    let stderr = "";
    proc.stderr.on("data", (d) => (stderr += d));

    const init = await client.request("initialize", { processId: process.pid, rootUri: pathToFileURL(tmp).href, capabilities: {} });
    expect(init.result.capabilities.hoverProvider).toBe(true);
    expect(init.result.capabilities.codeActionProvider).toBeTruthy();
    client.notify("initialized", {});

    const published = client.next((m) => m.method === "textDocument/publishDiagnostics" && m.params.uri === uri);
    client.notify("textDocument/didOpen", { textDocument: { uri, languageId: "python", version: 1, text } });
    const diags = (await published).params.diagnostics;
    // Only the reached sync (line 5), not the one no thread reaches (line 9).
    expect(diags.map((d: any) => [d.code, d.range.start.line])).toEqual([["MPS001", 4]]);
    const related = diags[0].relatedInformation.map((r: any) => [path.relative(tmp, new URL(r.location.uri).pathname), r.location.range.start.line + 1]);
    expect(related[0]).toEqual([path.join("app", "serve.py"), 13]);
    expect(related.at(-1)).toEqual([path.join("app", "engine", "batch.py"), 7]);
    expect(diags[0].relatedInformation[0].message).toMatch(/^thread started here: /);
    // The message is rendered as the CLI renders it (lintWorkspace -> lintProject): other files by their workspace path.
    expect(diags[0].message).toContain("reached from self.executor.submit(batch.run_batch) at app/serve.py:13 via run_batch (app/engine/batch.py:5)");

    const actions = await client.request("textDocument/codeAction", { textDocument: { uri }, range: diags[0].range, context: { diagnostics: diags } });
    expect(actions.result).toHaveLength(1);
    expect(actions.result[0].title).toMatch(/MPS001, unsafe fix/);
    const edits = actions.result[0].edit.changes[uri];
    expect(edits.some((e: any) => e.newText.includes("_mps_lint_event_sync("))).toBe(true);

    const hover = await client.request("textDocument/hover", { textDocument: { uri }, position: { line: 4, character: 10 } });
    expect(hover.result.contents.value).toMatch(/^\*\*MPS001\*\* device-sync-in-thread: /);
    const nothing = await client.request("textDocument/hover", { textDocument: { uri }, position: { line: 0, character: 0 } });
    expect(nothing.result).toBeNull();

    // An unsaved edit that removes the reached sync: the buffer is linted, not the file on disk.
    const cleared = client.next((m) => m.method === "textDocument/publishDiagnostics" && m.params.uri === uri);
    const edited = text.replace("    torch.mps.synchronize()  # expect: MPS001", "    pass");
    client.notify("textDocument/didChange", { textDocument: { uri, version: 2 }, contentChanges: [{ text: edited }] });
    expect((await cleared).params.diagnostics).toEqual([]);

    await client.request("shutdown", null);
    const exited = new Promise<number | null>((resolve) => proc.on("exit", resolve));
    client.notify("exit", null);
    expect(await exited).toBe(0);
    expect(stderr).toBe("");
  }, 60_000);

  const hasNvim = spawnSync("nvim", ["--version"], { encoding: "utf8" }).status === 0;
  it.skipIf(!hasNvim)("Neovim's built-in LSP client (headless) shows MPS001 with its witness", () => {
    const project = mkdtempSync(path.join(os.tmpdir(), "mps-lint-nvim-"));
    try {
      cpSync(path.join(ROOT, "fixtures", "device-sync-in-thread", "cross_module"), project, { recursive: true });
      const out = path.join(project, "diagnostics.txt");
      const r = spawnSync("nvim", ["--headless", "--clean", "-u", "NONE", "-c", `luafile ${path.join(ROOT, "test", "data", "nvim-lsp.lua")}`], {
        cwd: project,
        env: { ...process.env, PROJECT: project, CLI, OUT: out },
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(out, "utf8")).toBe("MPS001 5 mps-lint related=3\n");
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 90_000);
});
