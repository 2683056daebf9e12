import { runBringup } from "./sim/system/bringup.ts";
const { report, system } = await runBringup({ engine: process.argv[2] });
console.log(JSON.stringify(report));
console.log(system.link.counters.dropCounts, system.link.events.slice(-10));
console.log("rp mps", system.link.config.maxPayloadSize, "ssd mps", system.ssd.config.maxPayloadBytes);
console.log(system.ssd.log.entries?.slice?.(-10) ?? system.ssd.log);
system.close();
