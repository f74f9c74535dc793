// The --format names, apart from the reporters themselves: the CLI lists them in its help
// (src/cli/args.ts) before it loads any reporter (src/cli/cli.ts loads the lint pipeline only
// after parsing argv), and the configuration checks output-format against them. The ones for
// people first, then the machine formats.

export const FORMATS = ["stylish", "concise", "full", "grouped", "json", "json-lines", "sarif", "github", "gitlab", "junit", "pylint", "rdjson", "azure"] as const;

export type Format = (typeof FORMATS)[number];
