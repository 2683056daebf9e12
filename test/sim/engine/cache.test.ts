// The model cache's build lock (sim/engine/cache.ts lockBuild): test workers that want the same model
// at once build it once; the others wait and read what was built; an abandoned lock is taken over.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockBuild } from "../../../sim/engine/cache.ts";

describe("lockBuild", () => {
  it("lets one builder at a time build; a waiter that finds the model built reads it instead of building", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-"));
    const lock = join(dir, "model.lock");
    const model = join(dir, "model.json");
    const built = () => existsSync(model);
    const events: string[] = [];
    const builder = async (name: string) => {
      const release = await lockBuild(lock, built);
      if (release === undefined) {
        events.push(`${name} reads`);
        return;
      }
      events.push(`${name} builds`);
      await new Promise((resolve) => setTimeout(resolve, 400));
      writeFileSync(model, "{}");
      release();
    };
    await Promise.all([builder("first"), builder("second")]);
    expect(events).toEqual(["first builds", "second reads"]);
    expect(existsSync(lock)).toBe(false);
  });

  it("takes over a lock whose holder is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-"));
    const lock = join(dir, "model.lock");
    // A pid far above any Linux pid_max: no such process.
    writeFileSync(lock, "99999999");
    const release = await lockBuild(lock, () => false);
    expect(release).toBeTypeOf("function");
    release!();
    expect(existsSync(lock)).toBe(false);
  });
});
