// Runs once before the test files: names each missing Debian tool once (the tests that need it
// skip themselves), and under CI=true refuses to run with one missing, so CI cannot skip silently.
import { missingDebianTools, missingToolMessage } from "../tools/external.ts";

export default function checkDebianTools(): void {
  const missing = missingDebianTools();
  if (missing.length === 0) return;
  if (process.env.CI === "true") {
    throw new Error(`CI=true but ${missing.map((t) => t.command).join(", ")} ${missing.length === 1 ? "is" : "are"} not installed: run \`npm run setup\` first`);
  }
  for (const tool of missing) {
    console.warn(`notice: ${missingToolMessage(tool.command, tool.package)}. Skipping what needs it: ${tool.neededFor}.`);
  }
}
