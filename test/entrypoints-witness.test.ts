// Framework entry points and project spawn wrappers, through the real pipeline (with the token
// prefilter, as the CLI runs): each finding's witness names the framework or the wrapper chain,
// and says "single worker" only for a dedicated thread (an audio stream's callback).
import path from "node:path";
import { describe, expect, it } from "vitest";
import deviceSyncInThread from "../rules/device-sync-in-thread.js";
import { discover } from "../src/files/discover.js";
import { lintFiles } from "../src/engine/engine.js";
import { FIXTURES } from "./harness.js";
import { renderMessage } from "../src/reporters/message.js";

const DIR = path.join(FIXTURES, "device-sync-in-thread");

function findings(folder: string): { at: string; message: string }[] {
  const root = path.join(DIR, folder);
  const files = discover([root], root);
  const { diagnostics } = lintFiles({ files, rules: [deviceSyncInThread], prefilter: true });
  return diagnostics.map((d) => ({ at: `${path.basename(d.file)}:${d.range.start.row + 1}`, message: renderMessage(d, { cwd: root }) }));
}

const messageAt = (list: { at: string; message: string }[], at: string) => list.find((f) => f.at === at)?.message ?? "";

describe("entry point witnesses", () => {
  it("FastAPI: method, path and the thread pool; through a helper module", () => {
    const f = findings("fastapi_endpoints");
    expect(messageAt(f, "app.py:14")).toContain("reached from FastAPI endpoint POST /generate (runs in the thread pool) at line 12 via generate");
    expect(messageAt(f, "helpers.py:5")).toContain("reached from FastAPI endpoint POST /embed (runs in the thread pool) at app.py:24 via embed -> finish");
    expect(messageAt(f, "app.py:30")).toContain("FastAPI dependency Depends(get_model)");
    expect(messageAt(f, "app.py:40")).toContain("FastAPI background task tasks.add_task(cleanup)");
    expect(messageAt(f, "app.py:14")).toContain("waits for every thread's work");
  });

  it("Flask, gRPC, Gradio, Qt and done callbacks name their framework", () => {
    expect(messageAt(findings("flask_views"), "app.py:12")).toContain("reached from Flask view POST /predict");
    expect(messageAt(findings("grpc_servicer"), "server.py:21")).toContain(
      "reached from gRPC servicer ModelServicer (add_ModelServicer_to_server) (runs on the server's thread pool) at line 31 via ModelServicer.Predict -> ModelServicer._wait",
    );
    const gradio = findings("gradio_handlers");
    expect(messageAt(gradio, "app.py:8")).toContain("reached from Gradio event handler button.click(predict) (runs on Gradio's worker threads)");
    expect(messageAt(gradio, "app.py:8")).not.toContain("single worker");
    expect(messageAt(findings("qt_threads"), "worker.py:13")).toContain("Qt QRunnable.run in class Job (runs on a QThreadPool thread)");
    expect(messageAt(findings("futures_callback"), "cb.py:13")).toContain("concurrent.futures done callback fut.add_done_callback(on_done)");
  });

  it("an audio stream's callback is one dedicated thread: single worker", () => {
    const f = findings("audio_callbacks");
    expect(messageAt(f, "stream.py:8")).toContain("sounddevice stream callback sd.Stream(on_audio)");
    expect(messageAt(f, "stream.py:8")).toContain("here a single worker");
    expect(messageAt(f, "stream.py:12")).toContain("PyAudio stream callback pa.open(on_chunk)");
  });

  it("a project pool: the witness walks the wrapper chain down to the executor", () => {
    const f = findings("project_pool");
    expect(messageAt(f, "app.py:7")).toContain(
      "reached from run_on(infer) (a thread spawn through run_on -> DevicePools.submit -> self._pools[device].submit(fn)) at line 20 via infer",
    );
    expect(messageAt(f, "app.py:11")).toContain("pools.submit_any(embed) (a thread spawn through DevicePools.submit_any -> self._fallback.submit(fn))");
    expect(f.map((x) => x.at)).not.toContain("app.py:15");
  });

  it("callables handed over as values and through a queue", () => {
    const callables = findings("callables");
    expect(messageAt(callables, "app.py:27")).toContain("via Pipeline.run_stages -> Pipeline.encode");
    expect(callables.map((x) => x.at)).not.toContain("app.py:37");
    const queue = findings("queue_handoff");
    expect(queue.map((x) => x.at)).toEqual(["worker.py:22"]);
    expect(messageAt(queue, "worker.py:22")).toContain("via Runner._loop -> Runner.call.job");
  });
});
