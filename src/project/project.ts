// Everything the rules ask about the whole project, built once per run from all ModuleFacts.

import type { ModuleFacts } from "../facts/model.js";
import { CallGraph } from "./callgraph.js";
import type { ProjectCore } from "./core.js";
import { DeviceFlow } from "./deviceflow.js";
import { BlockingWaits } from "./blocking.js";
import { EventAnalysis } from "./events.js";
import { ProjectIndex } from "./index.js";
import { SyncInfo } from "./sync.js";
import { ThreadAnalysis } from "./threads.js";
import { ThreadWork } from "./threadwork.js";
import { TimingAnalysis } from "./timeline.js";

export interface ProjectOptions {
  srcRoots?: string[];
  /** Folders whose relative paths also name modules (namespace packages): the linted roots. */
  searchRoots?: string[];
  threadEntryPoints?: string[];
  /** Facts of a module name the index looks up and does not have (demand loading, src/engine/engine.ts). */
  loadModule?: (name: string) => readonly ModuleFacts[];
  /** Told of each folder a module puts on sys.path: its files get module names (demand loading). */
  onSearchRoot?: (dir: string) => void;
}

export class Project implements ProjectCore {
  readonly index: ProjectIndex;
  /** Call targets per call site with receiver-aware dispatch (edges built on demand, once). */
  readonly graph: CallGraph;
  readonly threads: ThreadAnalysis;
  readonly sync: SyncInfo;
  readonly deviceFlow: DeviceFlow;
  private eventAnalysis: EventAnalysis | null = null;
  private timingAnalysis: TimingAnalysis | null = null;
  private blockingAnalysis: BlockingWaits | null = null;
  private threadWorkAnalysis: ThreadWork | null = null;

  constructor(modules: ModuleFacts[], options: ProjectOptions = {}) {
    this.index = new ProjectIndex(modules, options.srcRoots ?? [], options.searchRoots ?? [], options.loadModule, options.onSearchRoot);
    this.graph = new CallGraph(this.index);
    this.threads = new ThreadAnalysis(this.index, options.threadEntryPoints ?? [], this.graph);
    this.sync = new SyncInfo(this.index);
    this.deviceFlow = new DeviceFlow(this.index, this.sync);
  }

  get events(): EventAnalysis {
    return (this.eventAnalysis ??= new EventAnalysis(this.index, this.threads));
  }

  /** Functions' ordered timelines of work, waits and clock reads, and their summaries (MPS004). */
  get timeline(): TimingAnalysis {
    return (this.timingAnalysis ??= new TimingAnalysis(this));
  }

  /** Blocking waits synchronous functions reach (MPS006). */
  get blockingWaits(): BlockingWaits {
    return (this.blockingAnalysis ??= new BlockingWaits(this));
  }

  /** Device work functions reach outside a lock (MPS008). */
  get threadWork(): ThreadWork {
    return (this.threadWorkAnalysis ??= new ThreadWork(this));
  }
}
