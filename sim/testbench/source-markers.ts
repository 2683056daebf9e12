// Tests of error locations mark the line they expect with a comment (`// @two-drivers`) and ask
// for its `file:line` here, so the expectation survives edits above it.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { HdlError } from "../../hdl/index.ts";
import { projectRoot } from "../../hdl/location.ts";

/** For the test file at `testUrl` (its import.meta.url): marker -> `test/...:<line>` of the line carrying `// @<marker>`. */
export function markerLocator(testUrl: string): (marker: string) => string {
  const path = fileURLToPath(testUrl);
  const lines = readFileSync(path, "utf8").split("\n");
  const file = relative(projectRoot, path);
  return (marker) => {
    const index = lines.findIndex((line) => line.includes(`// @${marker}`) && !line.includes('at("'));
    if (index < 0) throw new Error(`no marker ${marker} in ${file}`);
    return `${file}:${index + 1}`;
  };
}

/** The HdlError `build` throws; fails if it throws nothing or something else. */
export function hdlErrorOf(build: () => void): HdlError {
  try {
    build();
  } catch (error) {
    if (error instanceof HdlError) return error;
    throw error;
  }
  throw new Error("expected an HdlError");
}
