#!/usr/bin/env node
// `npm run setup`: everything a fresh Debian machine needs, then the npm packages. Plain JavaScript
// with no dependencies, because it runs before `npm ci` has installed any.
//   - Debian tools that are missing are installed with apt when run as root; otherwise the one
//     command to run is printed and the set-up goes on (the tests that need them are skipped).
//   - Under CI=true a tool that could not be installed is a failure: CI must not skip silently.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { tools } = JSON.parse(readFileSync(join(root, "tools", "debian-tools.json"), "utf8"));
const inCi = process.env.CI === "true";

const installed = (tool) => !spawnSync(tool.command, tool.probe, { stdio: "ignore" }).error;
const missingPackages = () => [...new Set(tools.filter((t) => !installed(t)).map((t) => t.package))];

function run(command, args, env = process.env) {
  console.log(`$ ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit", env });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
}

function installDebianTools() {
  const packages = missingPackages();
  if (packages.length === 0) return console.log("Debian tools: all installed");
  const canApt = process.getuid?.() === 0 && !spawnSync("apt-get", ["--version"], { stdio: "ignore" }).error;
  if (!canApt) {
    console.log(`Debian tools missing: ${packages.join(", ")}. Install them with:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages.join(" ")}`);
    console.log("Until then the tests that need them are skipped, each tool named once in a notice.");
    if (inCi) throw new Error("CI=true and Debian tools are missing: run the set-up as root");
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-qq"], env);
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], env);
  const still = missingPackages();
  if (still.length > 0) throw new Error(`apt-get installed nothing for: ${still.join(", ")}`);
}

try {
  installDebianTools();
  run("npm", ["ci", "--no-audit", "--no-fund"]);
  // Build the default system's simulation model into .cache/ now, so the first `npm start` does not
  // wait for the Verilator compile (a minute on two cores).
  if (installed({ command: "verilator", probe: ["--version"] })) run("npx", ["tsx", "tools/main-job.ts", "--prepare"]);
} catch (error) {
  console.error(`setup: ${error.message}`);
  process.exit(1);
}
