// Finding and running the external tools `npm run setup` installs from Debian (Verilator, Icarus
// Verilog, QEMU); the list is tools/debian-tools.json, shared with the set-up script.
import { spawnSync } from "node:child_process";
import debianToolList from "./debian-tools.json" with { type: "json" };

export interface DebianTool {
  command: string;
  probe: string[];
  package: string;
  neededFor: string;
}

export const debianTools: readonly DebianTool[] = debianToolList.tools;

/** The Debian tools that are not on the PATH. */
export function missingDebianTools(): DebianTool[] {
  return debianTools.filter((tool) => spawnSync(tool.command, tool.probe, { stdio: "ignore" }).error !== undefined);
}

export interface ToolRun {
  status: number;
  output: string;
}

export function hasTool(command: string): boolean {
  const result = spawnSync(command, ["--version"], { encoding: "utf8" });
  return !result.error;
}

/** The one-line explanation printed when a tool is missing. */
export function missingToolMessage(command: string, debianPackage: string): string {
  return `${command} is not installed; install it with \`npm run setup\` (as root) or: sudo apt-get install -y --no-install-recommends ${debianPackage}`;
}

export function runTool(command: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): ToolRun {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}
