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
  // A UTF-16 file with a BOM (Windows editors write them) is full of NUL bytes. Python refuses it,
  // but its text is plain: lint it, and say why it will not run (fixes are only applied to UTF-8).
  const utf16 = bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe ? "utf-16le" : bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff ? "utf-16be" : null;
  if (utf16) {
    try {
      const text = new TextDecoder(utf16, { fatal: true }).decode(bytes.subarray(2));
      if (!text.includes("\0")) {
        return { text, encoding: utf16, hadBom: true, warning: `encoded as ${utf16.toUpperCase()} (with a BOM), which Python does not accept as source; linted as decoded, not fixed` };
      }
    } catch {
      // Not valid UTF-16 after all: treated as bytes below.
    }
  }
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

/**
 * Columns: tree-sitter's Node binding counts UTF-16 code units; Ruff (and so our text and JSON
 * reports) counts characters (code points). They differ after an astral character (an emoji):
 * one character, two code units. This converts a 0-based UTF-16 column on `line`.
 */
export function charColumn(line: string, utf16: number): number {
  let n = utf16;
  for (let i = 0; i < utf16 - 1 && i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = line.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const ASTRAL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/;

/** Per file: a converter of (row, UTF-16 column) to a character column; identity when no line needs it. */
export function charColumns(source: (file: string) => string): (file: string, row: number, column: number) => number {
  const byFile = new Map<string, string[] | null>();
  return (file, row, column) => {
    let lines = byFile.get(file);
    if (lines === undefined) {
      let text = "";
      try {
        text = source(file);
      } catch {
        /* unreadable now: leave columns as they are */
      }
      lines = ASTRAL.test(text) ? text.split(/\r\n|\n|\r/) : null;
      byFile.set(file, lines);
    }
    return lines ? charColumn(lines[row] ?? "", column) : column;
  };
}
