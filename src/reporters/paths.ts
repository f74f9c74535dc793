import path from "node:path";

/** Path as users expect to see it: relative to the working folder when inside it. */
export function displayPath(file: string, cwd: string): string {
  if (file === "-" || file.startsWith("<")) return file;
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel.split(path.sep).join("/") : file;
}
