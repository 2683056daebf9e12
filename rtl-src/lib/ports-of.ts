// The ports a module builder's instances offer, for helpers that wire instances together:
// `connectRequesterToLayer(m, requester: { ports: PortsOf<typeof pcieRequester> }, ...)`.
import type { Module, ModuleInterface } from "../../hdl/index.ts";

/** The ports (the `exposing` handles) of the module `build` returns, as an instance's `ports`. */
export type PortsOf<Build extends (...args: never[]) => Module<ModuleInterface>> = ReturnType<Build> extends Module<infer I> ? I : never;
