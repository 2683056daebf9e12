// The estimate of whatever system a SystemSpec describes: one SSD on the root port (estimate.ts), or
// several behind a switch, striped (array-estimate.ts, SystemSpec.array). `nvme-host estimate` and the
// sim report's estimate and link ceiling come from here.
import type { JobSpec, SystemSpec } from "../workload/job.ts";
import { arrayLinkCeiling, estimateArray, type ArraySystemEstimate } from "./array-estimate.ts";
import { estimate, linkCeiling, type Estimate, type EstimateGeometry, type EstimateOptions } from "./estimate.ts";

export type SystemEstimate = Estimate & { array?: ArraySystemEstimate["array"] };

/** Predict `job` on `system` (an array when `system.array` is set). */
export function estimateSystem(job: JobSpec, system: SystemSpec, geometry?: EstimateGeometry, options: EstimateOptions = {}): SystemEstimate {
  return system.array ? estimateArray(job, system, geometry, options) : estimate(job, system, geometry, options);
}

/** The payload ceiling of the root port's link: with an array, at what the root link trains at with the switch. */
export function systemLinkCeiling(system: SystemSpec): { read: number; write: number } {
  return system.array ? arrayLinkCeiling(system) : linkCeiling(system);
}
