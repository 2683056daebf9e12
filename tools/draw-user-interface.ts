// Draws docs/user-interface-timing.svg: the controller's user interface doing one write and one read,
// recorded from the emitted core running against the SSD model (tools/timing-diagram.ts). The user
// side is driven by the system tests' driver (sim/testbench/user-port-driver.ts) with no
// back-pressure, so the diagram shows the handshakes as a camera-side design would see them.
//
//   npx tsx tools/draw-user-interface.ts [--engine js|verilator] [--out FILE]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { UserOpcode } from "../rtl-src/user/user-port.ts";
import { resolveEngine } from "../sim/engine/index.ts";
import { runBringup } from "../sim/system/bringup.ts";
import { UserPortDriver, readIoGeometry } from "../sim/testbench/user-port-driver.ts";
import { recordWaves, renderSvg, toWaveJson, userInterfaceMarkers, userInterfaceSignals } from "./timing-diagram.ts";

const { values } = parseArgs({ options: { engine: { type: "string" }, out: { type: "string", default: "docs/user-interface-timing.svg" } } });
const engine = resolveEngine(values.engine);
const { report, system } = await runBringup({ engine });
try {
  if (report.state !== "ready") throw new Error(`bring-up ended in ${report.state}: ${JSON.stringify(report.error)}`);
  const { namespaces } = readIoGeometry(system.sim);
  const driver = new UserPortDriver(system, { namespaces, seed: 1, writeGapProbability: 0, readReadyProbability: 1, completionReadyProbability: 1, writeDataWhen: "accepted" });
  driver.submit([
    { opcode: UserOpcode.WRITE, nsid: 1, lba: 8, blockCount: 1, tag: 5, pass: 1 },
    { opcode: UserOpcode.READ, nsid: 1, lba: 8, blockCount: 1, tag: 6 },
  ]);
  const recording = recordWaves(system.sim, userInterfaceSignals(system.sim), () => {
    const result = driver.run(200_000);
    if (!result.ok) throw new Error(`the write and read did not complete cleanly: ${result.errors.join("; ")}`);
  });
  const title = `nvme-host user interface: a 1-block write (tag 5), then a 1-block read of it (tag 6); ${engine} engine, ${namespaces[0].lbaBytes}-byte blocks`;
  // The beats between a burst's first and last are drawn as a gap: 64 columns of data per block would hide the handshakes.
  const elide = ["user_write_data_tdata", "user_read_data_tdata"];
  writeFileSync(values.out!, renderSvg(toWaveJson(recording, { markers: userInterfaceMarkers, title, elide, hscale: 2 })));
  console.log(`wrote ${values.out}`);
} finally {
  system.close();
}
