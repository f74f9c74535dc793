#!/usr/bin/env node
// The installed bin (package.json "bin" -> dist/bundle/bin.js). It turns on Node's on-disk
// compile cache (Node >= 22.1; absent on Node 20) before the CLI's code is compiled, which is
// why the CLI is a separate module loaded with import() rather than this file itself.

import module from "node:module";

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

await import("./cli.js");
