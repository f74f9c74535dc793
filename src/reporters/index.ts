import { azure } from "./azure.js";
import { concise } from "./concise.js";
import { full } from "./full.js";
import { grouped } from "./grouped.js";
import { github } from "./github.js";
import { gitlab } from "./gitlab.js";
import { json, jsonLines } from "./json.js";
import { junit } from "./junit.js";
import { pylint } from "./pylint.js";
import { rdjson } from "./rdjson.js";
import { sarif } from "./sarif.js";
import { stylish } from "./stylish.js";
import { FORMATS, type Format } from "./formats.js";
import type { Reporter } from "./types.js";

// `satisfies`: tsc checks that this table and FORMATS name the same formats.
export const REPORTERS: Record<string, Reporter> = {
  stylish,
  concise,
  json,
  "json-lines": jsonLines,
  sarif,
  github,
  gitlab,
  junit,
  pylint,
  full,
  grouped,
  rdjson,
  azure,
} satisfies Record<Format, Reporter>;

export { FORMATS };
