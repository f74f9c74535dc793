// The parts of a Project that the later analyses (timeline, blocking waits, thread work) build on.
// They take this rather than the Project itself, which assembles them all: no analysis module
// imports the module that constructs it.

import type { CallGraph } from "./callgraph.js";
import type { DeviceFlow } from "./deviceflow.js";
import type { ProjectIndex } from "./index.js";
import type { SyncInfo } from "./sync.js";

export interface ProjectCore {
  readonly index: ProjectIndex;
  readonly graph: CallGraph;
  readonly sync: SyncInfo;
  readonly deviceFlow: DeviceFlow;
}
