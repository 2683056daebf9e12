// Which engine runs a simulation: an explicit option (e.g. from --engine), else
// the NVME_HOST_ENGINE environment variable, else the zero-install js engine.

export const ENGINES = ["js", "verilator", "native"] as const;
export type EngineName = (typeof ENGINES)[number];
export const ENGINE_ENV = "NVME_HOST_ENGINE";

export function resolveEngine(option?: string, env: NodeJS.ProcessEnv = process.env): EngineName {
  const chosen = option ?? env[ENGINE_ENV] ?? "js";
  if ((ENGINES as readonly string[]).includes(chosen)) return chosen as EngineName;
  const from = option !== undefined ? "--engine" : ENGINE_ENV;
  throw new Error(`unknown simulation engine "${chosen}" (from ${from}); choose one of: ${ENGINES.join(", ")}`);
}

/** The value of `--engine X` or `--engine=X` in a command line, if present. */
export function engineFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--engine") {
      if (i + 1 >= argv.length) throw new Error(`--engine needs a value: ${ENGINES.join(", ")}`);
      return argv[i + 1];
    }
    if (argv[i].startsWith("--engine=")) return argv[i].slice("--engine=".length);
  }
  return undefined;
}
