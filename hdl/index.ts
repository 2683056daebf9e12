// The public face of the DSL: everything a design in rtl-src/ needs.
export { HdlError } from "./errors.ts";
export { type Shape, type ShapeLike, signed, unsigned, addressBits, bitsFor } from "./shape.ts";
export { C, Const, Signal, Value, type ValueLike, cat, mux } from "./value.ts";
export { Module, type SignalOptions, type ParameterValue, IfChain, CaseBuilder } from "./module.ts";
export { Fsm } from "./fsm.ts";
export { Memory, type MemoryOptions, type ReadPort, type ReadPortConnections, type WritePort, type WritePortConnections } from "./memory.ts";
export { Instance, type BlackBoxDef, type BlackBoxPorts, type ClockDomain } from "./instance.ts";
export { blackBoxStubFileName, emitBlackBoxStub } from "./black-box-stub.ts";
export {
  Bundle,
  type BundleDef,
  type BundleFlow,
  type FieldOf,
  type AxiStreamField,
  type AxiStreamOptions,
  type ConnectOptions,
  axiStream,
  defineBundle,
} from "./bundle.ts";
export type { ModuleInterface, NoInterface, PortHandle } from "./module-context.ts";
export { type Design, elaborate } from "./elaborate.ts";
export { type EmittedFile, emitDesign } from "./emit-verilog.ts";
export { NamedConst, constant } from "./constant.ts";
export { isSnakeCase, toSnakeCase } from "./naming.ts";
