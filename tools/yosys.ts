// The one Yosys runner: Yosys in WebAssembly (@yowasp/yosys) on in-memory Verilog files, for lint,
// synthesis and the js engine's netlists.
import { runYosys } from "@yowasp/yosys";

export class YosysError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
    this.name = "YosysError";
  }
}

export interface YosysRun {
  /** Everything Yosys printed. */
  log: string;
  /** Files Yosys wrote into its virtual file system (e.g. `write_json out.json`). */
  files: Record<string, string>;
}

/** Files for Yosys's working directory: name -> text, or a folder of them. */
export interface YosysTree {
  [name: string]: string | YosysTree;
}

/**
 * Runs `script` (Yosys commands separated by `;` or newlines) with `files` in the working
 * directory. Throws a YosysError carrying Yosys's own error lines, and its whole log, on failure.
 * `quiet` passes -q: only warnings and errors reach the log.
 */
export async function yosys(script: string, files: YosysTree, options: { quiet?: boolean } = {}): Promise<YosysRun> {
  let log = "";
  const decoder = new TextDecoder();
  const collect = (bytes: Uint8Array | null) => {
    if (bytes) log += decoder.decode(bytes, { stream: true });
  };
  let tree: Record<string, unknown> | undefined;
  try {
    tree = (await runYosys([...(options.quiet ? ["-q"] : []), "-p", script], files, { stdout: collect, stderr: collect })) as Record<string, unknown> | undefined;
  } catch (error) {
    const errors = log
      .split("\n")
      .filter((line) => /ERROR|error:/i.test(line))
      .join("\n");
    throw new YosysError(`Yosys failed: ${errors || (error as Error).message}`, log);
  }
  const out: Record<string, string> = {};
  for (const [name, content] of Object.entries(tree ?? {})) {
    if (typeof content === "string") out[name] = content;
    else if (content instanceof Uint8Array) out[name] = decoder.decode(content);
  }
  return { log, files: out };
}
