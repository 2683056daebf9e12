// Finite state machines with named states: a state register, one Switch over it whose cases are
// the states, and `next` as the only way to change state. States are emitted as localparams.
import { HdlError } from "./errors.ts";
import { CallSite } from "./location.ts";
import type { ModuleContext } from "./module-context.ts";
import { addressBits } from "./shape.ts";
import { Const, type Signal, type Value } from "./value.ts";

export class Fsm<S extends string> {
  readonly state: Signal;
  readonly states: readonly S[];
  readonly resetState: S;
  private readonly codes = new Map<string, Const>();
  private bodyDefined = false;
  private inBody = false;

  constructor(
    private readonly module: ModuleContext,
    states: readonly S[],
    options: { name?: string; reset?: S },
    readonly site: CallSite,
  ) {
    if (states.length === 0) throw new HdlError("an FSM needs at least one state", site);
    const unique = new Set<string>();
    for (const s of states) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new HdlError(`FSM state "${s}" is not an identifier`, site);
      if (unique.has(s)) throw new HdlError(`FSM state "${s}" is listed twice`, site);
      unique.add(s);
    }
    this.states = states;
    this.resetState = options.reset ?? states[0];
    if (!unique.has(this.resetState)) throw new HdlError(`FSM reset state "${this.resetState}" is not one of its states`, site);
    const width = addressBits(states.length);
    const name = () => options.name ?? module.nameFor(site, "fsm");
    this.state = module.declareDerived("internal", width, name, site, { reset: states.indexOf(this.resetState) });
    states.forEach((s, index) => {
      this.codes.set(s, new Const(index, width, () => `${name().toUpperCase()}_${s}`, site));
    });
  }

  /** 1 when the machine is in `state`. */
  is(state: S): Value {
    return this.state.eq(this.stateCode(state));
  }

  /** Go to `state` at the next clock edge; only inside the FSM's body. */
  next(state: S): void {
    const code = this.stateCode(state);
    if (!this.inBody) {
      throw new HdlError(`next("${state}") outside the body of FSM "${this.module.displayName(this.state)}"`, new CallSite());
    }
    this.module.sync(this.state, code);
  }

  /** What each state does; states without a handler hold. Call once. */
  body(handlers: { readonly [K in S]?: () => void }): void {
    const site = new CallSite();
    if (this.bodyDefined) throw new HdlError("an FSM's body is defined once", site);
    for (const key of Object.keys(handlers)) {
      if (!this.codes.has(key)) throw new HdlError(`FSM body has a handler for unknown state "${key}"`, site);
    }
    this.bodyDefined = true;
    this.module.Switch(this.state, ({ statement }) => {
      for (const s of this.states) {
        this.module.addCase(statement, [this.codes.get(s)!], () => {
          this.inBody = true;
          try {
            handlers[s]?.();
          } finally {
            this.inBody = false;
          }
        }, site);
      }
    });
  }

  /** The constant that encodes `state` (printed as its localparam). */
  stateCode(state: S): Const {
    const code = this.codes.get(state);
    if (!code) {
      throw new HdlError(`unknown FSM state "${state}" (states: ${this.states.join(", ")})`, new CallSite());
    }
    return code;
  }
}
