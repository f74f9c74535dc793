// Framework entry points: functions that a library calls on threads of its own. One row per
// entry point, each with the module it comes from, the shape that registers a function with it,
// what that means for threads, and the framework's documentation saying so (docs/entry-points.md
// quotes them). The analysis (src/project/threads.ts) reads this table and nothing else about
// frameworks: a contributor adds a row here, a fixture under fixtures/device-sync-in-thread/, and
// a line in docs/entry-points.md.
//
// Names are qualified names as the project index resolves them through imports: an instance of
// an external class `C` made by `C()` reads as `C()`, its method `m` as `C().m`. A row matches only
// when the registering call or decorator resolves to one of its names, so a decorator that is
// merely called `route` or `post` is never taken for a framework's.

/** How a function is handed to the framework. */
export type EntryShape =
  /** `@owner.method(...)` on a def: the decorated function is the entry point. */
  | { t: "decorator"; callees: string[] }
  /**
   * A call that registers or receives a callable (`app.add_api_route(path, fn)`,
   * `btn.click(fn)`, `gr.Interface(fn=...)`, `sd.InputStream(callback=cb)`): the argument at
   * `pos` (when given) or keyword `kw` is the entry point.
   */
  | {
      t: "call";
      callees: string[];
      pos?: number;
      kw: string;
      /**
       * The argument is an iterator the framework steps on its threads (a streaming response
       * body): the entry points are the sync generator functions whose call made it.
       */
      iterates?: boolean;
    }
  /** A project subclass of one of `bases`: its `methods` (and overrides) run on the thread. */
  | { t: "subclass"; bases: string[]; methods: string[] }
  /**
   * gRPC's generated `add_<Name>Servicer_to_server(servicer, server)` with a server made by one
   * of `servers`: every public method of the servicer's class is an RPC handler.
   */
  | { t: "servicer"; register: RegExp; servers: string[] };

export interface EntryPoint {
  /** "FastAPI", "Flask", ... as the witness names it. */
  framework: string;
  /** The top-level module the names come from (also a prefilter token). */
  module: string;
  /** What the registered function is: "endpoint", "view", "event handler", "stream callback". */
  role: string;
  shape: EntryShape;
  /** Where the function runs, for the witness: "runs in the thread pool". */
  runs: string;
  /** More than one thread may run it over time (a pool); false for one dedicated thread. */
  many: boolean | "per-instance";
  /** `async def` functions registered this way run on an event loop, not on the threads. */
  asyncOnLoop: boolean;
  /** The framework's own documentation of the threading behaviour. */
  doc: string;
  /**
   * Only when the project serves it threaded: a call to one of these (e.g. `app.run()`) without
   * keyword `flagKw` or with it set to a literal `True` (a variable is not known: not counted),
   * or a WSGI server configuration module among `configModules` (file names) that asks for
   * threads (gunicorn: `threads = N` with N > 1, or `worker_class = "gthread"`).
   */
  servedBy?: { callees: string[]; flagKw: string; configModules?: string[] };
}

const HTTP_VERBS = ["get", "post", "put", "delete", "patch", "head", "options", "trace"];
const product = (owners: string[], methods: string[]) => owners.flatMap((o) => methods.map((m) => `${o}.${m}`));

const FASTAPI_APPS = ["fastapi.FastAPI()", "fastapi.applications.FastAPI()", "fastapi.APIRouter()", "fastapi.routing.APIRouter()"];
const FLASK_APPS = ["flask.Flask()", "flask.app.Flask()", "flask.Blueprint()", "flask.blueprints.Blueprint()"];
/** Gradio events: any component's listener, `.then()` chains, and Blocks.load. */
const GRADIO_EVENTS = [
  "click", "change", "submit", "input", "select", "upload", "load", "blur", "focus", "release", "clear",
  "stream", "play", "pause", "stop", "edit", "like", "retry", "undo", "then", "success", "tick", "key_up",
];
const QT = ["PyQt5", "PyQt6", "PySide2", "PySide6", "qtpy"];
const FLASK_SERVED = {
  callees: ["flask.Flask().run", "flask.app.Flask().run", "waitress.serve"],
  flagKw: "threaded",
  // gunicorn reads ./gunicorn.conf.py by default; the other names are the usual `-c` files.
  configModules: ["gunicorn.conf.py", "gunicorn_conf.py", "gunicorn_config.py", "gunicorn.config.py"],
};
const FLASK_VIEW_CLASSES = ["flask.views.MethodView", "flask.views.View"];
/** Methods Flask's MethodView dispatches to by HTTP verb, and View's single entry. */
const FLASK_VIEW_METHODS = [...HTTP_VERBS, "dispatch_request"];
const STARLETTE_ENDPOINTS = ["starlette.endpoints.HTTPEndpoint"];

export const ENTRY_POINTS: readonly EntryPoint[] = [
  {
    framework: "FastAPI",
    module: "fastapi",
    role: "endpoint",
    shape: { t: "decorator", callees: product(FASTAPI_APPS, [...HTTP_VERBS, "api_route"]) },
    runs: "runs in the thread pool",
    many: true,
    asyncOnLoop: true,
    doc: "https://fastapi.tiangolo.com/async/#path-operation-functions",
  },
  {
    framework: "FastAPI",
    module: "fastapi",
    role: "endpoint",
    shape: { t: "call", callees: product(FASTAPI_APPS, ["add_api_route"]), pos: 1, kw: "endpoint" },
    runs: "runs in the thread pool",
    many: true,
    asyncOnLoop: true,
    doc: "https://fastapi.tiangolo.com/async/#path-operation-functions",
  },
  {
    framework: "FastAPI",
    module: "fastapi",
    role: "dependency",
    shape: { t: "call", callees: ["fastapi.Depends", "fastapi.params.Depends", "fastapi.param_functions.Depends"], pos: 0, kw: "dependency" },
    runs: "runs in the thread pool",
    many: true,
    asyncOnLoop: true,
    doc: "https://fastapi.tiangolo.com/async/#dependencies",
  },
  {
    framework: "FastAPI",
    module: "fastapi",
    role: "background task",
    shape: {
      t: "call",
      callees: ["fastapi.BackgroundTasks().add_task", "starlette.background.BackgroundTasks().add_task", "starlette.background.BackgroundTask"],
      pos: 0,
      kw: "func",
    },
    runs: "runs in the thread pool",
    many: true,
    asyncOnLoop: true,
    doc: "https://fastapi.tiangolo.com/tutorial/background-tasks/",
  },
  {
    framework: "Starlette",
    module: "starlette",
    role: "streaming body",
    shape: {
      t: "call",
      callees: ["starlette.responses.StreamingResponse", "fastapi.responses.StreamingResponse"],
      pos: 0,
      kw: "content",
      iterates: true,
    },
    runs: "stepped in the thread pool",
    many: true,
    asyncOnLoop: true,
    doc: "https://www.starlette.io/responses/#streamingresponse",
  },
  {
    framework: "Starlette",
    module: "starlette",
    role: "endpoint",
    shape: { t: "call", callees: ["starlette.routing.Route"], pos: 1, kw: "endpoint" },
    runs: "runs in the thread pool",
    many: true,
    asyncOnLoop: true,
    doc: "https://www.starlette.io/threadpool/",
  },
  {
    framework: "Flask",
    module: "flask",
    role: "view",
    shape: { t: "decorator", callees: product(FLASK_APPS, ["route", "get", "post", "put", "delete", "patch"]) },
    runs: "threaded server: one thread per request",
    many: true,
    asyncOnLoop: true,
    doc: "https://flask.palletsprojects.com/en/stable/api/#flask.Flask.run",
    servedBy: FLASK_SERVED,
  },
  {
    framework: "Flask",
    module: "flask",
    role: "view",
    shape: { t: "call", callees: product(FLASK_APPS, ["add_url_rule"]), pos: 2, kw: "view_func" },
    runs: "threaded server: one thread per request",
    many: true,
    asyncOnLoop: true,
    doc: "https://flask.palletsprojects.com/en/stable/api/#flask.Flask.run",
    servedBy: FLASK_SERVED,
  },
  {
    framework: "Flask",
    module: "flask",
    role: "class-based view",
    shape: { t: "subclass", bases: FLASK_VIEW_CLASSES, methods: FLASK_VIEW_METHODS },
    runs: "threaded server: one thread per request",
    many: true,
    asyncOnLoop: true,
    doc: "https://flask.palletsprojects.com/en/stable/views/",
    servedBy: FLASK_SERVED,
  },
  {
    framework: "Starlette",
    module: "starlette",
    role: "class-based endpoint",
    shape: { t: "subclass", bases: STARLETTE_ENDPOINTS, methods: HTTP_VERBS },
    runs: "runs in the thread pool",
    many: true,
    asyncOnLoop: true,
    doc: "https://www.starlette.io/endpoints/",
  },
  {
    framework: "gRPC",
    module: "grpc",
    role: "servicer",
    shape: { t: "servicer", register: /^add_\w+Servicer_to_server$/, servers: ["grpc.server"] },
    runs: "runs on the server's thread pool",
    many: true,
    asyncOnLoop: true,
    doc: "https://grpc.github.io/grpc/python/grpc.html#grpc.server",
  },
  {
    framework: "Gradio",
    module: "gradio",
    role: "event handler",
    shape: { t: "call", callees: GRADIO_EVENTS.map((e) => `gradio.**().${e}`), pos: 0, kw: "fn" },
    runs: "runs on Gradio's worker threads",
    many: true,
    asyncOnLoop: true,
    doc: "https://www.gradio.app/guides/setting-up-a-demo-for-maximum-performance",
  },
  {
    framework: "Gradio",
    module: "gradio",
    role: "event handler",
    // `@btn.click(inputs=..., outputs=...)` and `@gr.on(triggers=[...])` register the decorated
    // function as the event's fn, exactly as `btn.click(fn, ...)` does.
    shape: { t: "decorator", callees: [...GRADIO_EVENTS.map((e) => `gradio.**().${e}`), "gradio.on", "gradio.events.on"] },
    runs: "runs on Gradio's worker threads",
    many: true,
    asyncOnLoop: true,
    doc: "https://www.gradio.app/guides/setting-up-a-demo-for-maximum-performance",
  },
  {
    framework: "Gradio",
    module: "gradio",
    role: "interface function",
    shape: {
      t: "call",
      callees: ["gradio.Interface", "gradio.interface.Interface", "gradio.ChatInterface", "gradio.chat_interface.ChatInterface"],
      pos: 0,
      kw: "fn",
    },
    runs: "runs on Gradio's worker threads",
    many: true,
    asyncOnLoop: true,
    doc: "https://www.gradio.app/guides/setting-up-a-demo-for-maximum-performance",
  },
  {
    framework: "sounddevice",
    module: "sounddevice",
    role: "stream callback",
    shape: {
      t: "call",
      callees: ["InputStream", "OutputStream", "Stream", "RawInputStream", "RawOutputStream", "RawStream"].map((c) => `sounddevice.${c}`),
      kw: "callback",
    },
    runs: "runs on the audio driver's thread",
    many: false,
    asyncOnLoop: false,
    doc: "https://python-sounddevice.readthedocs.io/en/latest/api/streams.html#sounddevice.Stream",
  },
  {
    framework: "PyAudio",
    module: "pyaudio",
    role: "stream callback",
    shape: { t: "call", callees: ["pyaudio.PyAudio().open"], kw: "stream_callback" },
    runs: "runs on PortAudio's callback thread",
    many: false,
    asyncOnLoop: false,
    doc: "https://people.csail.mit.edu/hubert/pyaudio/docs/#pyaudio.PyAudio.open",
  },
  {
    framework: "Qt",
    module: "QtCore",
    role: "QThread.run",
    shape: { t: "subclass", bases: QT.map((q) => `${q}.QtCore.QThread`), methods: ["run"] },
    runs: "runs on the QThread's own thread",
    many: "per-instance",
    asyncOnLoop: false,
    doc: "https://doc.qt.io/qt-6/qthread.html#run",
  },
  {
    framework: "Qt",
    module: "QtCore",
    role: "QRunnable.run",
    shape: { t: "subclass", bases: QT.map((q) => `${q}.QtCore.QRunnable`), methods: ["run"] },
    runs: "runs on a QThreadPool thread",
    many: true,
    asyncOnLoop: false,
    doc: "https://doc.qt.io/qt-6/qrunnable.html",
  },
  {
    framework: "concurrent.futures",
    module: "concurrent",
    role: "done callback",
    shape: {
      t: "call",
      callees: ["concurrent.futures.ThreadPoolExecutor().submit().add_done_callback", "concurrent.futures.thread.ThreadPoolExecutor().submit().add_done_callback"],
      pos: 0,
      kw: "fn",
    },
    runs: "runs on the worker thread that completes the future",
    many: true,
    asyncOnLoop: false,
    doc: "https://docs.python.org/3/library/concurrent.futures.html#concurrent.futures.Future.add_done_callback",
  },
];

/** Names a file must spell to hold one of these registrations (the token prefilter). */
export const ENTRY_POINT_TOKENS: readonly string[] = [
  "fastapi", "starlette", "flask", "grpc", "gradio", "gunicorn", "worker_class", "sounddevice", "pyaudio", "QThread", "QRunnable", "add_done_callback",
];

/** A compiled matcher for a list of qualified names; `**` stands for any dotted run of segments. */
export function nameMatcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes("*")));
  const globs = patterns
    .filter((p) => p.includes("*"))
    .map((p) => new RegExp(`^${p.split("**").map((part) => part.replace(/[.()[\]]/g, "\\$&")).join("[\\w.()]+?")}$`));
  return (name) => exact.has(name) || globs.some((g) => g.test(name));
}

/** The last name a pattern's call spells (`click` for `gradio.**().click`), for call lookups. */
export function lastSegment(pattern: string): string {
  return pattern.slice(pattern.lastIndexOf(".") + 1);
}
