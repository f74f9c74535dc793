// Identities of the semantic core, as branded types: a module is an index into the project's
// modules, a scope (function, class, module body) an index into its module's scopes. Keys built
// from them are branded strings, so a function key cannot be mixed up with a call-graph node key.
//
// The index and the analyses still pass plain `{ m, s }` pairs (FnRef); the call graph's nodes
// use these types.

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type ModuleId = Brand<number, "ModuleId">;
export type ScopeId = Brand<number, "ScopeId">;

/** A function (or lambda, or module body) of the project. */
export interface FunctionId {
  readonly m: ModuleId;
  readonly s: ScopeId;
}

/** A class of the project (its class scope). */
export interface ClassId {
  readonly m: ModuleId;
  readonly s: ScopeId;
}

/** "m:s": the key of a function or class in maps. */
export type FnKey = Brand<string, "FnKey">;
/** "m:s" or "m:s@cm:cs": a call-graph node (function and receiver class). */
export type NodeKey = Brand<string, "NodeKey">;

export const fnKey = (m: number, s: number): FnKey => `${m}:${s}` as FnKey;
