// Every conformance scenario, in the order they run.

import { bringUpScenarios } from "./bring-up-scenarios.ts";
import { dataManagementScenarios } from "./data-management-scenarios.ts";
import { eraseScenarios } from "./erase-scenarios.ts";
import { errorScenarios } from "./error-scenarios.ts";
import { identifyScenarios } from "./identify-scenarios.ts";
import { ioScenarios } from "./io-scenarios.ts";
import { queueScenarios } from "./queue-scenarios.ts";
import type { Scenario } from "./scenario.ts";
import { shutdownScenarios } from "./shutdown-scenarios.ts";

export const allScenarios: Scenario[] = [
  ...bringUpScenarios,
  ...identifyScenarios,
  ...queueScenarios,
  ...ioScenarios,
  ...errorScenarios,
  ...dataManagementScenarios,
  ...eraseScenarios,
  ...shutdownScenarios,
];
