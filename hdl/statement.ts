// Statements: what a module does with its values. A module's body is a list of top-level
// statement groups (each one `m.comb`, `m.sync`, `m.If`, `m.Switch` or FSM body call); every
// signal is driven from exactly one group, so groups can be emitted as separate processes or, for
// registers, merged into one `always` block without changing what any signal does.
import type { CallSite } from "./location.ts";
import type { Const, Signal, Value } from "./value.ts";

export type Domain = "comb" | "sync";

export interface Assign {
  kind: "assign";
  domain: Domain;
  target: Signal;
  value: Value;
  site: CallSite;
}

export interface IfBranch {
  /** Undefined for the final `Else`. */
  condition: Value | undefined;
  body: Statement[];
  site: CallSite;
}

export interface If {
  kind: "if";
  branches: IfBranch[];
  site: CallSite;
}

export interface SwitchCase {
  /** Undefined for `Default`. */
  values: Const[] | undefined;
  body: Statement[];
  site: CallSite;
}

export interface Switch {
  kind: "switch";
  subject: Value;
  cases: SwitchCase[];
  site: CallSite;
}

export type FormalKind = "assert" | "assume" | "cover";

export interface Formal {
  kind: FormalKind;
  condition: Value;
  site: CallSite;
}

export type Statement = Assign | If | Switch | Formal;

/** A top-level statement and what it drives. */
export interface StatementGroup {
  statement: Statement;
  site: CallSite;
}
