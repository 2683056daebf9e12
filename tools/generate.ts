// Emits every design of rtl-src/designs.ts into a folder (generated/ by default): one Verilog
// module per file, shared submodules once; and a port-exact stub of every black box the designs
// place (the pcie_7x hard block, FPGA primitives) into its blackbox/ subfolder, for the open tools
// (lint, Yosys synthesis). The vendor's build reads the top folder only: it has the real modules.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BlackBoxDef, type EmittedFile, blackBoxStubFileName, emitBlackBoxStub, emitDesign } from "../hdl/index.ts";
import { designs } from "../rtl-src/designs.ts";

/** The subfolder of the black-box stubs. */
export const BLACK_BOX_DIR = "blackbox";

export interface GenerationResult {
  files: EmittedFile[];
  /** One stub per black-box module, in name order (written to <out>/blackbox/). */
  stubs: EmittedFile[];
  warnings: string[];
}

/** Emits all designs in memory; a module (or black box) shared by several designs must come out identical. */
export function emitAllDesigns(): GenerationResult {
  const byName = new Map<string, EmittedFile>();
  const stubs = new Map<string, EmittedFile>();
  const warnings: string[] = [];
  for (const entry of designs) {
    const { files, design } = emitDesign(entry.build());
    warnings.push(...design.warnings);
    for (const file of files) {
      const earlier = byName.get(file.fileName);
      if (earlier && earlier.text !== file.text) {
        throw new Error(`two designs emit different modules named ${file.moduleName}; give them distinct names`);
      }
      byName.set(file.fileName, file);
    }
    for (const def of design.blackBoxes) {
      const stub = stubFile(def);
      const earlier = stubs.get(stub.fileName);
      if (earlier && earlier.text !== stub.text) throw new Error(`two designs place different black boxes named ${def.module}`);
      stubs.set(stub.fileName, stub);
    }
  }
  const sorted = (list: Iterable<EmittedFile>) => [...list].sort((a, b) => a.fileName.localeCompare(b.fileName));
  return { files: sorted(byName.values()), stubs: sorted(stubs.values()), warnings: [...new Set(warnings)] };
}

function stubFile(def: BlackBoxDef): EmittedFile {
  return { fileName: blackBoxStubFileName(def), moduleName: def.module, text: emitBlackBoxStub(def) };
}

/** Writes the emitted files into `directory` (stubs into its blackbox/), removing stale `.v` files, and returns them. */
export function writeGenerated(directory: string): GenerationResult {
  const result = emitAllDesigns();
  writeFolder(directory, result.files);
  writeFolder(join(directory, BLACK_BOX_DIR), result.stubs);
  return result;
}

function writeFolder(directory: string, files: readonly EmittedFile[]): void {
  mkdirSync(directory, { recursive: true });
  const keep = new Set(files.map((f) => f.fileName));
  for (const name of readdirSync(directory)) {
    if (name.endsWith(".v") && !keep.has(name)) rmSync(join(directory, name));
  }
  for (const file of files) writeFileSync(join(directory, file.fileName), file.text);
}
