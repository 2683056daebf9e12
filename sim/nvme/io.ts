// The NVM command set (NVMe 1.4 §6): Read, Write, Flush, Write Zeroes and Dataset Management (deallocate).
// Checks run in QEMU's order: namespace, opcode, transfer size (MDTS), LBA range, then the PRPs.

import { NvmCommandField, SqeField } from "../../rtl-src/nvme/nvme-sqe.ts";
import type { Command, CommandContext } from "./command-context.ts";
import type { NamespaceMedia } from "./media.ts";
import type { NvmeStatus } from "./status.ts";
import { Status } from "./status.ts";

export const IoOpcode = {
  flush: 0x00,
  write: 0x01,
  read: 0x02,
  writeZeroes: 0x08,
  datasetManagement: 0x09,
} as const;

const NSID_BROADCAST = 0xffffffff;
const DSM_RANGE_BYTES = 16;

export class IoCommandSet {
  constructor(private readonly c: CommandContext) {}

  execute(cmd: Command): void {
    const c = this.c;
    const e = cmd.sqe;
    const done = (status: NvmeStatus) => c.complete(cmd, status);
    if (e.nsid === NSID_BROADCAST && e.opcode === IoOpcode.flush) return this.flush(cmd);
    if (!c.nsidValid(e.nsid)) return c.complete(cmd, Status.invalidNamespace, 0, { field: SqeField.nsid });
    const ns = c.namespace(e.nsid);
    if (!ns) return c.complete(cmd, Status.invalidField, 0, { field: SqeField.nsid });
    if (!(Object.values(IoOpcode) as number[]).includes(e.opcode)) return c.complete(cmd, Status.invalidOpcode, 0, { field: SqeField.opcode });
    if (e.psdt !== 0 || e.fuse !== 0) return done(Status.invalidField);
    if (c.formatting.has(e.nsid)) return done(Status.formatInProgress);
    switch (e.opcode) {
      case IoOpcode.flush:
        return this.flush(cmd);
      case IoOpcode.write:
        return this.write(cmd, ns);
      case IoOpcode.read:
        return this.read(cmd, ns);
      case IoOpcode.writeZeroes:
        return this.writeZeroes(cmd, ns);
      case IoOpcode.datasetManagement:
        return this.datasetManagement(cmd, ns);
    }
  }

  private range(cmd: Command): { slba: number; nlb: number; slbaBig: bigint } {
    const e = cmd.sqe;
    const slbaBig = (BigInt(e.cdw11 >>> 0) << 32n) | BigInt(e.cdw10 >>> 0);
    return { slbaBig, slba: Number(slbaBig), nlb: (e.cdw12 & 0xffff) + 1 };
  }

  private outOfRange(ns: NamespaceMedia, slba: bigint, nlb: number): boolean {
    return slba + BigInt(nlb) > BigInt(ns.capacityBlocks);
  }

  /** LBA Out of Range, logged with the starting LBA (the first one in error when the range starts inside). */
  private lbaOutOfRange(cmd: Command, ns: NamespaceMedia, slba: bigint): void {
    const firstBad = slba < BigInt(ns.capacityBlocks) ? BigInt(ns.capacityBlocks) : slba;
    this.c.complete(cmd, Status.lbaOutOfRange, 0, { field: NvmCommandField.slba, lba: firstBad });
  }

  private read(cmd: Command, ns: NamespaceMedia): void {
    const c = this.c;
    const { slba, nlb, slbaBig } = this.range(cmd);
    const bytes = nlb * ns.lbaSize;
    if (bytes > c.maxTransferBytes) return c.complete(cmd, Status.invalidField, 0, { field: NvmCommandField.nlb });
    if (this.outOfRange(ns, slbaBig, nlb)) return this.lbaOutOfRange(cmd, ns, slbaBig);
    c.mapData(cmd, bytes, (prps) => {
      if (cmd.cancelled) return;
      if (!prps.ok) {
        c.log.add(c.now, "command-error", `read CID ${cmd.sqe.cid}: ${prps.reason}`);
        return c.complete(cmd, prps.status);
      }
      c.scheduler.at(c.timing.readReady(bytes, c.now), () => {
        if (cmd.cancelled) return;
        const data = ns.read(slba, nlb);
        const poisoned = c.faults.takePoison(c.identity(cmd));
        let offset = 0;
        for (const seg of prps.segments) {
          c.dma.write(seg.address, data.subarray(offset, offset + seg.length), poisoned);
          offset += seg.length;
        }
        c.stats.hostReadCommands++;
        c.stats.dataUnitsRead += bytes / 512;
        c.complete(cmd, Status.success);
      });
    });
  }

  private write(cmd: Command, ns: NamespaceMedia): void {
    const c = this.c;
    const { slba, nlb, slbaBig } = this.range(cmd);
    const bytes = nlb * ns.lbaSize;
    const forceUnitAccess = ((cmd.sqe.cdw12 >>> 30) & 1) === 1;
    if (bytes > c.maxTransferBytes) return c.complete(cmd, Status.invalidField, 0, { field: NvmCommandField.nlb });
    if (this.outOfRange(ns, slbaBig, nlb)) return this.lbaOutOfRange(cmd, ns, slbaBig);
    c.fromHost(cmd, bytes, (status, data) => {
      if (cmd.cancelled) return;
      if (!data) return c.complete(cmd, status);
      c.sanitize.noteMediaWritten();
      const staged = ns.stage(slba, nlb, data, true);
      const t = c.timing.write(bytes, c.now, c.features.volatileWriteCache && !forceUnitAccess);
      c.scheduler.at(t.persistAt, () => ns.persist(staged));
      c.scheduler.at(t.completeAt, () => {
        c.stats.hostWriteCommands++;
        c.stats.dataUnitsWritten += bytes / 512;
        c.complete(cmd, Status.success);
      });
    });
  }

  private flush(cmd: Command): void {
    const c = this.c;
    c.scheduler.at(c.timing.flushDone(c.now), () => c.complete(cmd, Status.success));
  }

  private writeZeroes(cmd: Command, ns: NamespaceMedia): void {
    const c = this.c;
    const { slba, nlb, slbaBig } = this.range(cmd);
    if (this.outOfRange(ns, slbaBig, nlb)) return this.lbaOutOfRange(cmd, ns, slbaBig);
    c.sanitize.noteMediaWritten();
    ns.persist(ns.stage(slba, nlb, null, false));
    c.complete(cmd, Status.success);
  }

  private datasetManagement(cmd: Command, ns: NamespaceMedia): void {
    const c = this.c;
    const ranges = (cmd.sqe.cdw10 & 0xff) + 1;
    const deallocate = ((cmd.sqe.cdw11 >>> 2) & 1) === 1;
    c.fromHost(cmd, ranges * DSM_RANGE_BYTES, (status, data) => {
      if (cmd.cancelled) return;
      if (!data) return c.complete(cmd, status);
      if (!deallocate) return c.complete(cmd, Status.success);
      const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const list: { slba: number; nlb: number }[] = [];
      for (let i = 0; i < ranges; i++) {
        const nlb = v.getUint32(i * DSM_RANGE_BYTES + 4, true);
        const slba = v.getBigUint64(i * DSM_RANGE_BYTES + 8, true);
        if (nlb === 0) continue;
        if (this.outOfRange(ns, slba, nlb)) return c.complete(cmd, Status.lbaOutOfRange, 0, { lba: slba < BigInt(ns.capacityBlocks) ? BigInt(ns.capacityBlocks) : slba });
        list.push({ slba: Number(slba), nlb });
      }
      for (const r of list) ns.persist(ns.stage(r.slba, r.nlb, null, false));
      c.complete(cmd, Status.success);
    });
  }
}
