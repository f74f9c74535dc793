// The --format names, apart from the reporters themselves: the CLI lists them in its help
// before it loads any reporter (src/cli/cli.ts loads the lint pipeline only after parsing argv).

export const FORMATS = ["stylish", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit", "pylint", "full", "grouped", "rdjson", "azure"] as const;

export type Format = (typeof FORMATS)[number];
