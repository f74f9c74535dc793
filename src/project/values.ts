// Abstract values that a Python expression may evaluate to, as far as the linter needs to know.
// "ext" names are qualified names outside the project ("torch.mps.synchronize",
// "concurrent.futures.ThreadPoolExecutor"); an expression that resolves to nothing known
// evaluates to no value at all (precision first: no guesses).

export type Value =
  /** A function, method or lambda of the project: module index + scope index. */
  | { k: "fn"; m: number; s: number }
  | { k: "class"; m: number; s: number }
  /**
   * An instance of a project class; `virtual` when seen through self (subclass overrides apply).
   * `declared`: known only from an annotation naming class `declared` (a parameter or attribute
   * typed as a base): this is one of the subclasses the project creates (rapid type analysis).
   */
  | { k: "inst"; m: number; s: number; virtual: boolean; declared?: { m: number; s: number } }
  /** A method bound to an instance. */
  | { k: "bound"; m: number; s: number; self: Value }
  | { k: "module"; m: number }
  | { k: "ext"; name: string }
  /** What calling an external callable returned (an instance of an external class, usually). */
  | { k: "extinst"; name: string }
  | { k: "partial"; target: Value[]; m: number; call: number }
  /** An Event object created at a call site. */
  | { k: "event"; m: number; call: number; backend: string }
  | { k: "str"; value: string }
  /** super() inside a method of class (m, s). */
  | { k: "super"; m: number; s: number; self: Value[] }
  | { k: "none" };

export function valueKey(v: Value): string {
  switch (v.k) {
    case "fn":
    case "class":
    case "module":
      return `${v.k}:${v.m}:${"s" in v ? v.s : ""}`;
    case "inst":
      return `inst:${v.m}:${v.s}:${v.virtual ? 1 : 0}${v.declared ? `:${v.declared.m}.${v.declared.s}` : ""}`;
    case "bound":
      return `bound:${v.m}:${v.s}:${valueKey(v.self)}`;
    case "ext":
    case "extinst":
      return `${v.k}:${v.name}`;
    case "partial":
      return `partial:${v.m}:${v.call}`;
    case "event":
      return `event:${v.m}:${v.call}`;
    case "str":
      return `str:${v.value}`;
    case "super":
      return `super:${v.m}:${v.s}`;
    case "none":
      return "none";
  }
}

export const MAX_VALUES = 24;

export function dedupe(values: Value[]): Value[] {
  // (One value or none: nothing to drop; a new array all the same, as below.)
  if (values.length <= 1) return values.length === 0 ? [] : [values[0]];
  const seen = new Set<string>();
  const out: Value[] = [];
  for (const v of values) {
    const key = valueKey(v);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
    if (out.length >= MAX_VALUES) break;
  }
  return out;
}
