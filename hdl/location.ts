// Where in the user's TypeScript a DSL object was created. Every error and every emitted
// statement group points back to it, so the stack is captured at construction and formatted lazily.
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const hdlDir = dirname(fileURLToPath(import.meta.url));
/** The repository root: trails are written relative to it so that emitted files are machine-independent. */
export const projectRoot = resolve(hdlDir, "..");

export interface SourceLocation {
  /** Absolute path of the TypeScript file. */
  file: string;
  line: number;
  column: number;
}

const unknownLocation: SourceLocation = { file: "<unknown>", line: 0, column: 0 };
const framePattern = /\(?((?:file:\/\/)?[^()\s]+?):(\d+):(\d+)\)?$/;

/** A captured call stack that resolves to the first frame outside `hdl/` on demand. */
export class CallSite {
  private readonly holder: { stack?: string } = {};
  private resolved: SourceLocation | undefined;

  constructor() {
    const previousLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 12;
    Error.captureStackTrace(this.holder, CallSite);
    Error.stackTraceLimit = previousLimit;
  }

  get location(): SourceLocation {
    this.resolved ??= firstUserFrame(this.holder.stack ?? "");
    return this.resolved;
  }

  /** `rtl-src/lib/fifo.ts:42`, relative to the project root. */
  toString(): string {
    return formatLocation(this.location);
  }
}

export function formatLocation(location: SourceLocation): string {
  if (location === unknownLocation) return "<unknown>";
  return `${relative(projectRoot, location.file).split("\\").join("/")}:${location.line}`;
}

function firstUserFrame(stack: string): SourceLocation {
  for (const line of stack.split("\n").slice(1)) {
    const match = framePattern.exec(line.trim());
    if (!match) continue;
    const file = match[1].startsWith("file://") ? fileURLToPath(match[1]) : match[1];
    if (file.startsWith("node:") || file.includes("/node_modules/")) continue;
    if (dirname(file) === hdlDir) continue;
    return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return unknownLocation;
}
