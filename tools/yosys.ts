// Runs Yosys (WebAssembly, from @yowasp/yosys) on in-memory Verilog files.
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

/**
 * Runs `script` (Yosys commands separated by `;` or newlines) with `files` (name -> Verilog text)
 * in the working directory. Throws a YosysError carrying Yosys's own error lines on failure.
 */
export async function yosys(script: string, files: Record<string, string>): Promise<YosysRun> {
  let log = "";
  const decoder = new TextDecoder();
  const collect = (bytes: Uint8Array | null) => {
    if (bytes) log += decoder.decode(bytes, { stream: true });
  };
  let tree: Record<string, unknown> | undefined;
  try {
    tree = (await runYosys(["-p", script], files, { stdout: collect, stderr: collect })) as Record<string, unknown> | undefined;
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
