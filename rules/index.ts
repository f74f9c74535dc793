// The one registry of rules. Order here is the order of `mps-lint rule` listings.

import type { Rule } from "../src/engine/rule.js";
import blockingSyncInAsync from "./blocking-sync-in-async.js";
import deviceSyncInThread from "./device-sync-in-thread.js";
import elapsedTimeWithoutSync from "./elapsed-time-without-sync.js";
import eventInLoop from "./event-in-loop.js";
import invalidSyntax from "./invalid-syntax.js";
import mpsThreadsWithoutStreams from "./mps-threads-without-streams.js";
import sharedEvent from "./shared-event.js";
import unsyncedThreadResult from "./unsynced-thread-result.js";
import unsyncedTiming from "./unsynced-timing.js";
import unusedSuppression from "./unused-suppression.js";

export const RULES: readonly Rule[] = [
  invalidSyntax,
  deviceSyncInThread,
  unsyncedThreadResult,
  sharedEvent,
  unsyncedTiming,
  eventInLoop,
  blockingSyncInAsync,
  elapsedTimeWithoutSync,
  mpsThreadsWithoutStreams,
  unusedSuppression,
];

export function findRule(codeOrName: string): Rule | undefined {
  const key = codeOrName.trim().toUpperCase();
  return RULES.find((r) => r.meta.code === key || r.meta.name.toUpperCase() === key);
}
