// Every design `npm run gen` emits into generated/, with the parameters the controller uses.
import type { Module } from "../hdl/index.ts";
import { axisRealignDw } from "./lib/axis-realign-dw.ts";
import { axisSkidBuffer } from "./lib/axis-skid-buffer.ts";
import { syncFifo } from "./lib/sync-fifo.ts";

export interface DesignEntry {
  /** What the design is, for `nvme-host gen` output. */
  description: string;
  build: () => Module;
}

export const designs: DesignEntry[] = [
  { description: "AXI4-Stream register slice, 64-bit with tkeep/tlast", build: () => axisSkidBuffer({ dataWidth: 64 }) },
  { description: "block-RAM FIFO, 64 bits x 512, first-word fall-through", build: () => syncFifo({ width: 64, depth: 512 }) },
  { description: "64-bit stream re-aligner, shifts down by one DW (3DW-header TLP payload)", build: () => axisRealignDw() },
];
