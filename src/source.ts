// Reading Python source as Python does: UTF-8 by default, a BOM is dropped, a PEP 263 coding
// cookie in the first two lines names another encoding. Invalid bytes never stop the run.

import { readFileSync } from "node:fs";

export interface SourceFile {
  text: string;
  encoding: string;
  hadBom: boolean;
  /** Decoding problem worth telling the user (invalid UTF-8, unknown encoding). */
  warning: string | null;
}

const COOKIE = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;

export function decodePython(bytes: Uint8Array): SourceFile {
  // Python refuses source with NUL bytes ("source code cannot contain null bytes"), and to
  // tree-sitter a NUL ends the input: such a file is binary (or corrupt) and is not linted.
  const nul = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(0);
  if (nul >= 0) {
    return { text: "", encoding: "binary", hadBom: false, warning: `contains a NUL byte at offset ${nul} (a binary file?); not linted` };
  }
  let hadBom = false;
  let body = bytes;
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    hadBom = true;
    body = bytes.subarray(3);
  }
  const head = Buffer.from(body.subarray(0, 400)).toString("latin1").split(/\r\n|\r|\n/, 2);
  let encoding = "utf-8";
  for (const line of head) {
    const m = COOKIE.exec(line);
    if (m) {
      encoding = normalizeEncoding(m[1]);
      break;
    }
    if (!/^[ \t\f]*(#.*)?$/.test(line)) break;
  }
  try {
    const text = new TextDecoder(encoding, { fatal: true }).decode(body);
    return { text, encoding, hadBom, warning: null };
  } catch (e) {
    const known = e instanceof RangeError ? `unknown encoding "${encoding}"` : `invalid ${encoding} bytes`;
    const text = new TextDecoder("utf-8", { fatal: false }).decode(body);
    return { text, encoding: "utf-8", hadBom, warning: `${known}; decoded as UTF-8 with replacement characters` };
  }
}

function normalizeEncoding(name: string): string {
  const n = name.toLowerCase().replace(/_/g, "-");
  if (n === "utf8" || n.startsWith("utf-8")) return "utf-8";
  if (n === "latin-1" || n === "iso-latin-1" || n === "l1") return "latin1";
  return n;
}

export function readPython(file: string): SourceFile {
  return decodePython(readFileSync(file));
}
