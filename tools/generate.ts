// Emits every design of rtl-src/designs.ts into a folder (generated/ by default): one Verilog
// module per file, shared submodules once.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type EmittedFile, emitDesign } from "../hdl/index.ts";
import { designs } from "../rtl-src/designs.ts";

export interface GenerationResult {
  files: EmittedFile[];
  warnings: string[];
}

/** Emits all designs in memory; a module shared by several designs must come out identical. */
export function emitAllDesigns(): GenerationResult {
  const byName = new Map<string, EmittedFile>();
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
  }
  const files = [...byName.values()].sort((a, b) => a.fileName.localeCompare(b.fileName));
  return { files, warnings: [...new Set(warnings)] };
}

/** Writes the emitted files into `directory`, removing stale `.v` files, and returns them. */
export function writeGenerated(directory: string): GenerationResult {
  const result = emitAllDesigns();
  mkdirSync(directory, { recursive: true });
  const keep = new Set(result.files.map((f) => f.fileName));
  for (const name of readdirSync(directory)) {
    if (name.endsWith(".v") && !keep.has(name)) rmSync(join(directory, name));
  }
  for (const file of result.files) writeFileSync(join(directory, file.fileName), file.text);
  return result;
}
