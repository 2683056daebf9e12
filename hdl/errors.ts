// The one error type the DSL throws: it always says where in the user's TypeScript the problem is.
import type { CallSite } from "./location.ts";

export class HdlError extends Error {
  constructor(
    message: string,
    readonly site: CallSite | undefined,
  ) {
    super(site ? `${site.toString()}: ${message}` : message);
    this.name = "HdlError";
  }
}
