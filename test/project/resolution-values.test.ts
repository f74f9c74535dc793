import { describe, expect, it } from "vitest";
import type { Value } from "../../src/project/values.js";
import { buildProject, py } from "./graph-project.js";

/** Values of the last `return` of function `qual` in `file`, as short strings. */
function returned(files: Record<string, string>, file: string, qual: string): string[] {
  const b = buildProject(files);
  const fn = b.fn(`${file}:${qual}`);
  const sc = b.project.index.scope(fn);
  const idx = b.project.index;
  return idx.eval(fn.m, sc.returns[sc.returns.length - 1].value).map((v: Value) =>
    v.k === "str" ? `str ${v.value}` : v.k === "inst" ? `inst ${idx.displayName(v)}` : v.k === "ext" || v.k === "extinst" ? `${v.k} ${v.name}` : v.k,
  ).sort();
}

describe("evaluator values", () => {
  it("reads a @property as what its getter returns", () => {
    const src = py([
      "import torch",
      "class Model(torch.nn.Module):",
      "    @property",
      "    def device(self):",
      "        return torch.device('mps')",
      "    @device.setter",
      "    def device(self, v):",
      "        pass",
      "def where(m: Model):",
      "    return Model().device",
    ]);
    expect(returned({ "m.py": src }, "m.py", "where")).toEqual(["str mps"]);
  });

  it("sees modules kept in a dict, by display and by item assignment", () => {
    const src = py([
      "import torch",
      "class CFM(torch.nn.Module):",
      "    pass",
      "class Voc(torch.nn.Module):",
      "    pass",
      "class Engine:",
      "    def __init__(self):",
      "        self.models = {'cfm': CFM().to('mps')}",
      "        self.models['voc'] = Voc().eval()",
      "    def pick(self):",
      "        return self.models['cfm']",
    ]);
    // (the library call results stay too: extinst torch.nn.Module().to / .eval)
    expect(returned({ "e.py": src }, "e.py", "Engine.pick").filter((v) => v.startsWith("inst"))).toEqual(["inst CFM", "inst Voc"]);
  });

  it("gives args.<dest> the defaults and choices of the project's add_argument calls", () => {
    const src = py([
      "import argparse",
      "def parse():",
      "    p = argparse.ArgumentParser()",
      "    p.add_argument('--device', default='cuda', choices=['cuda', 'mps', 'cpu'])",
      "    p.add_argument('--other-device', dest='second', default='cpu')",
      "    return p.parse_args()",
      "def main():",
      "    args = parse()",
      "    return args.device",
      "def second():",
      "    args, _ = argparse.ArgumentParser().parse_known_args()",
      "    return args.second",
    ]);
    expect(returned({ "cli.py": src }, "cli.py", "main")).toEqual(["str cpu", "str cuda", "str mps"]);
    expect(returned({ "cli.py": src }, "cli.py", "second")).toEqual(["str cpu"]);
  });

  it("keeps an unknown attribute of a parsed namespace unresolved", () => {
    const src = py(["import argparse", "def main():", "    return argparse.ArgumentParser().parse_args().device"]);
    expect(returned({ "cli.py": src }, "cli.py", "main")).toEqual(["ext argparse.ArgumentParser().parse_args().device"]);
  });
});

describe("evaluator values: configuration objects", () => {
  it("gives a dataclass field its default and what constructor calls pass for it by keyword", () => {
    const src = py([
      "from dataclasses import dataclass",
      "@dataclass",
      "class Config:",
      "    name: str = 'tts'",
      "    device: str = 'cpu'",
      "def load():",
      "    return Config('tts', device='mps')",
      "def other():",
      "    return Config(device='cuda')",
      "def where():",
      "    return load().device",
    ]);
    expect(returned({ "c.py": src }, "c.py", "where")).toEqual(["str cpu", "str cuda", "str mps"]);
  });
});
