// StrykerJS ignorer for `npm run mutate`: the documentation prose in each rule's `meta`
// (summary, why, example, useInstead, fixSafety, limitations, references) is text for
// docs/rules/*.md and `mps-lint --explain`, not behaviour of the analysis. test/rules-docs.test.ts
// checks it (pages current, example gives one finding, useInstead none) through the built CLI
// and docs/, which an in-process mutant run does not reach, so every such mutant would survive
// only after running the whole suite once per string. They are reported as "Ignored" with this
// reason, outside the score. meta's code, name, severity, category and fixable stay mutated.
import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

const DOC_FIELDS = new Set(["summary", "why", "example", "useInstead", "fixSafety", "limitations", "references"]);

/** True for the value of `<field>:` directly inside `meta: { ... }` of `defineRule({ ... })`. */
function isRuleDocField(path) {
  for (let p = path; p; p = p.parentPath) {
    if (!p.isObjectProperty() || p.node.computed || p.node.key.type !== "Identifier" || !DOC_FIELDS.has(p.node.key.name)) continue;
    const metaObject = p.parentPath;
    const metaProp = metaObject?.parentPath;
    if (!metaObject?.isObjectExpression() || !metaProp?.isObjectProperty() || metaProp.node.key.name !== "meta") continue;
    const call = metaProp.parentPath?.parentPath;
    if (call?.isCallExpression() && call.node.callee.type === "Identifier" && call.node.callee.name === "defineRule") return true;
  }
  return false;
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "rule-docs", {
    shouldIgnore(path) {
      return isRuleDocField(path) ? "rule documentation prose (meta), checked by test/rules-docs.test.ts against docs/rules" : undefined;
    },
  }),
];
