// Identities of the semantic core, as branded types: a module is an index into the project's
// modules, a scope (function, class, module body) an index into its module's scopes, a call an
// index into its module's calls. Keys built from them are branded strings, so a function key
// cannot be mixed up with a call-graph node key or a module name.
//
// Migration: the index and the analyses still pass plain `{ m, s }` pairs (FnRef); these types
// are what new code uses, and FnRef-shaped values convert with the helpers below.

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type ModuleId = Brand<number, "ModuleId">;
export type ScopeId = Brand<number, "ScopeId">;
export type CallId = Brand<number, "CallId">;

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

/** A call site: module and call index. */
export interface CallSiteId {
  readonly m: ModuleId;
  readonly call: CallId;
}

/** "m:s": the key of a function or class in maps. */
export type FnKey = Brand<string, "FnKey">;
/** "m:s" or "m:s@cm:cs": a call-graph node (function and receiver class). */
export type NodeKey = Brand<string, "NodeKey">;
/** "m:call": a call site. */
export type CallKey = Brand<string, "CallKey">;

export const functionId = (m: number, s: number): FunctionId => ({ m: m as ModuleId, s: s as ScopeId });
export const classId = (m: number, s: number): ClassId => ({ m: m as ModuleId, s: s as ScopeId });
export const callSite = (m: number, call: number): CallSiteId => ({ m: m as ModuleId, call: call as CallId });

export const fnKey = (m: number, s: number): FnKey => `${m}:${s}` as FnKey;
export const callKey = (m: number, call: number): CallKey => `${m}:${call}` as CallKey;
