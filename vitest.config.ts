import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/**
 * The files that take half a minute or more (a CI run's durations), longest first. On a fresh clone vitest has no durations to
 * sort by and orders files by size, so a short file that runs long (the core's agreement) would
 * start last and leave one core idle at the end; starting these first keeps both cores busy.
 */
const LONG_FILES = [
  "test/sim/engine/agreement-core.test.ts",
  "test/sim/engine/agreement.test.ts",
  "test/rtl-src/top/nvme-host-core-io.test.ts",
  "test/rtl-src/top/nvme-striped-core.test.ts",
  "test/rtl-src/top/nvme-array-core.test.ts",
  "test/sim/system/array-core.test.ts",
  "test/sim/engine/fuzz.test.ts",
  "test/sim/system/fault-matrix.test.ts",
  "test/rtl-src/pcie/pcie-topology-enumerator.test.ts",
  "test/tools/synth.test.ts",
  // Sorted by size these started last and ran alone for their last half-minute.
  "test/rtl-src/formal-proofs.test.ts",
  "test/generated.test.ts",
  "test/rtl-src/tlp/tlp-completer-splitter.test.ts",
];

class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const i = LONG_FILES.findIndex((name) => file.moduleId.endsWith(name));
      return i < 0 ? LONG_FILES.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: keep parallel forks from starving each other of CPU.
    pool: "forks",
    maxWorkers: 2,
    // A worker runs its files in one module registry: each file used to import hdl/, rtl-src/ and
    // sim/ afresh (a third of a small file's time) and to lose the engines' in-process caches. No test
    // file leaves global state behind (process.env is restored where a test changes it).
    isolate: false,
    sequence: { sequencer: LongFilesFirst },
  },
});
