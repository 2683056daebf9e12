// Content-addressed cache for compiled models, in the repository's ignored .cache/ folder
// (or NVME_HOST_CACHE when set).
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export function cacheRoot(): string {
  return process.env.NVME_HOST_CACHE ?? fileURLToPath(new URL("../../.cache/", import.meta.url));
}

export function cacheDir(kind: string): string {
  const dir = join(cacheRoot(), kind);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function hashOf(parts: readonly string[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(String(p.length));
    h.update(":");
    h.update(p);
  }
  return h.digest("hex").slice(0, 32);
}

/**
 * Takes the build lock `lock` (a file holding the builder's pid), waiting while another process holds
 * it: the test workers start together and would otherwise compile the same model side by side (a
 * controller core's Verilator build is a minute of one CPU). Returns the function that releases it,
 * or undefined when `built()` holds (the other process finished the build meanwhile: read the cache).
 * A lock whose holder is gone, or older than an hour, is taken over.
 */
export async function lockBuild(lock: string, built: () => boolean): Promise<(() => void) | undefined> {
  for (;;) {
    if (built()) return undefined;
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      if (built()) {
        rmSync(lock, { force: true });
        return undefined;
      }
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (lockAbandoned(lock)) rmSync(lock, { force: true });
    else await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const LOCK_MAX_AGE_MS = 3600_000;

function lockAbandoned(lock: string): boolean {
  let pid: number;
  let age: number;
  try {
    pid = Number(readFileSync(lock, "utf8"));
    age = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return false; // released (or being written) just now: look again
  }
  if (age > LOCK_MAX_AGE_MS) return true;
  if (!Number.isInteger(pid) || pid <= 0) return age > 5000;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
