// Every spelling of a framework entry point that src/project/entrypoints.ts lists, registered in
// a small real project and linted through the real pipeline: a device sync in the registered
// function is MPS001 for each spelling (each HTTP verb, app class and module path, Gradio event,
// Qt binding, audio stream class), and not for a look-alike (a project class with the same method
// names, an unthreaded Flask server). The spellings are written out here, not read from the table,
// so a spelling dropped or misspelt there fails its case.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import deviceSyncInThread from "../rules/device-sync-in-thread.js";
import { discover } from "../src/files/discover.js";
import { lintFiles } from "../src/engine/engine.js";

const SYNC = "    torch.cuda.synchronize()";

/** Lints each case as its own project folder; the MPS001 count per case. */
function mps001(cases: Record<string, Record<string, string>>): Record<string, number> {
  const root = mkdtempSync(path.join(tmpdir(), "mps-lint-spellings-"));
  const out: Record<string, number> = {};
  for (const [name, files] of Object.entries(cases)) {
    const dir = path.join(root, name);
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    const { diagnostics } = lintFiles({ files: discover([dir], dir), rules: [deviceSyncInThread], prefilter: true });
    out[name] = diagnostics.filter((d) => d.code === "MPS001").length;
  }
  return out;
}

const app = (lines: string[]) => ({ "app.py": ["import torch", ...lines].join("\n") + "\n" });
const each = (names: string[], n: number) => Object.fromEntries(names.map((k) => [k, n]));

describe("entry point spellings, through the pipeline", () => {
  it("FastAPI: every HTTP verb and api_route, on each app and router class; a project class with the same methods is not FastAPI", () => {
    const verbs = ["get", "post", "put", "delete", "patch", "head", "options", "trace", "api_route"];
    const apps: Record<string, string[]> = {
      FastAPI: ["from fastapi import FastAPI", "app = FastAPI()"],
      applications: ["import fastapi.applications", "app = fastapi.applications.FastAPI()"],
      APIRouter: ["from fastapi import APIRouter", "app = APIRouter()"],
      routing: ["from fastapi.routing import APIRouter", "app = APIRouter()"],
    };
    const cases: Record<string, Record<string, string>> = {};
    for (const v of verbs) cases[`fastapi_${v}`] = app([...apps.FastAPI, `@app.${v}("/x")`, "def h():", SYNC]);
    for (const [k, head] of Object.entries(apps)) cases[`fastapi_app_${k}`] = app([...head, '@app.post("/x")', "def h():", SYNC]);
    cases.fastapi_add_api_route = app([...apps.routing, "def h():", SYNC, 'app.add_api_route("/x", h)']);
    const lookalike = app(["class App:", "    def get(self, p):", "        return lambda f: f", "app = App()", '@app.get("/x")', "def h():", SYNC]);
    expect(mps001({ ...cases, lookalike })).toEqual({ ...each(Object.keys(cases), 1), lookalike: 0 });
  });

  it("Flask: each route decorator on each app and blueprint class, served threaded; not when served unthreaded", () => {
    const methods = ["route", "get", "post", "put", "delete", "patch"];
    const apps: Record<string, string[]> = {
      Flask: ["from flask import Flask", "app = Flask(__name__)"],
      app_Flask: ["import flask.app", "app = flask.app.Flask(__name__)"],
      Blueprint: ["from flask import Flask, Blueprint", "server = Flask(__name__)", "app = Blueprint('b', __name__)"],
      blueprints: ["from flask import Flask", "from flask.blueprints import Blueprint", "server = Flask(__name__)", "app = Blueprint('b', __name__)"],
    };
    const run = (head: string[]) => (head.some((l) => l.startsWith("server")) ? "server.run()" : "app.run()");
    const cases: Record<string, Record<string, string>> = {};
    for (const m of methods) cases[`flask_${m}`] = app([...apps.Flask, `@app.${m}("/x")`, "def h():", SYNC, "app.run()"]);
    for (const [k, head] of Object.entries(apps)) cases[`flask_app_${k}`] = app([...head, '@app.route("/x")', "def h():", SYNC, run(head)]);
    cases.flask_add_url_rule = app([...apps.Flask, "def h():", SYNC, 'app.add_url_rule("/x", "h", h)', "app.run()"]);
    cases.flask_waitress = app([...apps.Flask, "import waitress", '@app.route("/x")', "def h():", SYNC, "waitress.serve(app)"]);
    const unthreaded = app([...apps.Flask, '@app.route("/x")', "def h():", SYNC, "app.run(threaded=False)"]);
    expect(mps001({ ...cases, unthreaded })).toEqual({ ...each(Object.keys(cases), 1), unthreaded: 0 });
  });

  it("Flask and Starlette class views: each dispatched method", () => {
    const verbs = ["get", "post", "put", "delete", "patch", "head", "options", "trace"];
    const cases: Record<string, Record<string, string>> = {};
    for (const v of verbs) {
      cases[`methodview_${v}`] = app(["from flask import Flask", "from flask.views import MethodView", "app = Flask(__name__)", "class V(MethodView):", `    def ${v}(self):`, `    ${SYNC}`, "app.run()"]);
      cases[`starlette_${v}`] = app(["from starlette.endpoints import HTTPEndpoint", "class E(HTTPEndpoint):", `    def ${v}(self, request):`, `    ${SYNC}`]);
    }
    cases.view_dispatch_request = app(["from flask import Flask", "from flask.views import View", "app = Flask(__name__)", "class V(View):", "    def dispatch_request(self):", `    ${SYNC}`, "app.run()"]);
    const helper = app(["from flask import Flask", "from flask.views import MethodView", "app = Flask(__name__)", "class V(MethodView):", "    def fetch(self):", `    ${SYNC}`, "app.run()"]);
    expect(mps001({ ...cases, helper })).toEqual({ ...each(Object.keys(cases), 1), helper: 0 });
  });

  it("Gradio: every event listener of a component, and gr.on", () => {
    const events = ["click", "change", "submit", "input", "select", "upload", "load", "blur", "focus", "release", "clear", "stream", "play", "pause", "stop", "edit", "like", "retry", "undo", "then", "success", "tick", "key_up"];
    const cases: Record<string, Record<string, string>> = {};
    for (const e of events) cases[`gradio_${e}`] = app(["import gradio as gr", "def h(x):", SYNC, "btn = gr.Button()", `btn.${e}(h)`]);
    for (const on of ["gr.on", "gr.events.on"]) cases[`gradio_${on}`] = app(["import gradio as gr", "btn = gr.Button()", `@${on}(triggers=[btn.click])`, "def h(x):", SYNC]);
    for (const i of ["gr.Interface", "gr.interface.Interface", "gr.ChatInterface", "gr.chat_interface.ChatInterface"]) cases[`gradio_${i}`] = app(["import gradio as gr", "def h(x):", SYNC, `ui = ${i}(h)`]);
    const lookalike = app(["import gradio as gr", "def h(x):", SYNC, "btn = gr.Button()", "btn.clicked(h)"]);
    expect(mps001({ ...cases, lookalike })).toEqual({ ...each(Object.keys(cases), 1), lookalike: 0 });
  });

  it("Qt: QThread.run and QRunnable.run in each binding; sounddevice: each stream class", () => {
    const cases: Record<string, Record<string, string>> = {};
    for (const q of ["PyQt5", "PyQt6", "PySide2", "PySide6", "qtpy"]) {
      for (const base of ["QThread", "QRunnable"]) cases[`${q}_${base}`] = app([`from ${q}.QtCore import ${base}`, `class W(${base}):`, "    def run(self):", `    ${SYNC}`]);
    }
    for (const s of ["InputStream", "OutputStream", "Stream", "RawInputStream", "RawOutputStream", "RawStream"]) cases[`sd_${s}`] = app(["import sounddevice as sd", "def cb(indata, frames, t, status):", SYNC, `s = sd.${s}(callback=cb)`]);
    const lookalike = app(["from PyQt5.QtCore import QObject", "class W(QObject):", "    def run(self):", `    ${SYNC}`]);
    expect(mps001({ ...cases, lookalike })).toEqual({ ...each(Object.keys(cases), 1), lookalike: 0 });
  });
});
