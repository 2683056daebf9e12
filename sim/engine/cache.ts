// Content-addressed cache for compiled models, in the repository's ignored .cache/ folder
// (or NVME_HOST_CACHE when set).
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
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
