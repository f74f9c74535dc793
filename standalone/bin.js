#!/usr/bin/env node
import e from"node:module";e.enableCompileCache?.();await import("./cli.js");
