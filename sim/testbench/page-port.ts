// Reads the controller's page port (`page_address` in, `page_data` out PAGE_READ_LATENCY cycles
// later: rtl-src/nvme/page-field-capture.ts) one address per cycle, pipelined: for the tests of
// identify_capture, smart_log_capture, admin_bringup and the core, and for the full system's status
// report. Not a test file itself.
import { type NvmeField } from "../../rtl-src/nvme/nvme-field.ts";
import { CAPTURE_PAGE_BYTES, PAGE_READ_LATENCY, type StatusPageName, pageAddress } from "../../rtl-src/nvme/page-field-capture.ts";
import type { Simulator } from "../engine/index.ts";

/** The byte offsets `fields` occupy, ascending, each once. */
export function fieldOffsets(fields: Readonly<Record<string, NvmeField>>): number[] {
  return [...new Set(Object.values(fields).flatMap((f) => Array.from({ length: f.size }, (_, i) => f.offset + i)))].sort((a, b) => a - b);
}

/**
 * Bytes `offsets` of status page `page` through the page port, as a page-sized array (every other
 * byte 0). `step` advances the design one cycle (a plain simulator's by default; a full system
 * passes its own, which keeps the link and the SSD in step).
 */
export function readPagePort(sim: Pick<Simulator, "poke" | "peek" | "step">, page: StatusPageName, offsets: readonly number[], step: () => void = () => sim.step()): Uint8Array {
  const bytes = new Uint8Array(CAPTURE_PAGE_BYTES);
  for (let i = 0; i < offsets.length + PAGE_READ_LATENCY - 1; i++) {
    if (i < offsets.length) sim.poke("page_address", pageAddress(page, offsets[i]));
    step();
    const done = i + 1 - PAGE_READ_LATENCY;
    if (done >= 0) bytes[offsets[done]] = sim.peek("page_data");
  }
  return bytes;
}
