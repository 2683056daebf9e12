// The 4 KiB configuration space of a PCIe function as registers with per-bit access rules (read-only,
// read-write, write-1-to-clear), and the type-1 (PCI-to-PCI bridge) header that both the root port
// (rp-config-space.ts) and each switch port (pci-bridge-config.ts) carry: class 0604, header type 01h, no
// BARs, bus numbers, a non-prefetchable memory window, a 64-bit prefetchable window, no I/O window (its
// registers read 0, as the spec allows for a bridge without one), Bridge Control (facts digest §C.2–C.6;
// PCI-to-PCI Bridge Architecture 1.2 and PCIe Base 2.1 §7.5). What follows the header (capabilities, and
// what a write to Link Control sets off) is each function's own.

/** Header offsets of the type-1 fields. */
export const BridgeReg = {
  id: 0x00,
  command: 0x04,
  status: 0x06,
  classRevision: 0x08,
  cacheLineSize: 0x0c,
  headerType: 0x0e,
  bar0: 0x10,
  bar1: 0x14,
  busNumbers: 0x18,
  ioBaseLimit: 0x1c,
  secondaryStatus: 0x1e,
  memoryBase: 0x20,
  memoryLimit: 0x22,
  prefetchBase: 0x24,
  prefetchLimit: 0x26,
  prefetchBaseUpper: 0x28,
  prefetchLimitUpper: 0x2c,
  ioUpper: 0x30,
  capPointer: 0x34,
  expansionRom: 0x38,
  interruptLine: 0x3c,
  bridgeControl: 0x3e,
} as const;

/** Reset value and access rules of one field; bits in neither mask are read-only. */
export interface FieldSpec {
  reset?: number;
  rw?: number;
  rw1c?: number;
}

export interface ConfigWriteFlags {
  /** cfg_mgmt_wr_readonly: RO bits take the written value too. */
  readonly?: boolean;
  /** cfg_mgmt_wr_rw1c_as_rw: RW1C bits take the written value instead of clearing on 1. */
  rw1cAsRw?: boolean;
}

const DWORDS = 1024;

export class ConfigRegisters {
  /** Register contents by DW index, normal bit numbering; hardware-owned fields are written here directly. */
  readonly value = new Uint32Array(DWORDS);
  private readonly rwMask = new Uint32Array(DWORDS);
  private readonly rw1cMask = new Uint32Array(DWORDS);

  /** Every register to 0 and read-only, before the fields are defined again (a conventional reset). */
  clear(): void {
    this.value.fill(0);
    this.rwMask.fill(0);
    this.rw1cMask.fill(0);
  }

  /** Define the field of `bytes` bytes at `byteOffset`: its reset value and which bits are RW or RW1C. */
  define(byteOffset: number, bytes: 1 | 2 | 4, spec: FieldSpec): void {
    const index = byteOffset >> 2;
    const shift = (byteOffset & 3) * 8;
    const width = bytes === 4 ? 0xffffffff : (1 << (bytes * 8)) - 1;
    const place = (v: number | undefined) => (((v ?? 0) & width) << shift) >>> 0;
    const clear = ~(width << shift);
    this.value[index] = ((this.value[index] & clear) | place(spec.reset)) >>> 0;
    this.rwMask[index] = ((this.rwMask[index] & clear) | place(spec.rw)) >>> 0;
    this.rw1cMask[index] = ((this.rw1cMask[index] & clear) | place(spec.rw1c)) >>> 0;
  }

  /** Write the DW at `index` with per-byte enables (bit i = byte 4n+i) under RO/RW/RW1C rules; returns the new value. */
  write(index: number, data: number, byteEnable: number, flags: ConfigWriteFlags = {}): number {
    const byteMask = expandByteEnable(byteEnable);
    const rw1c = this.rw1cMask[index];
    let writable = this.rwMask[index];
    if (flags.readonly) writable |= ~rw1c;
    if (flags.rw1cAsRw) writable |= rw1c;
    writable &= byteMask;
    let next = (this.value[index] & ~writable) | (data & writable);
    if (!flags.rw1cAsRw) next &= ~(data & rw1c & byteMask);
    this.value[index] = next >>> 0;
    return this.value[index];
  }

  /**
   * Hardware updates Link Status (the upper half of the DW at `linkControl`): current speed, negotiated
   * width, Link Training, Slot Clock Configuration, Data Link Layer Link Active; the RW1C bandwidth
   * status bits keep their value.
   */
  setLinkStatus(linkControl: number, speed: number, width: number, training: boolean, dllActive: boolean): void {
    const status = (speed & 0xf) | ((width & 0x3f) << 4) | (training ? 1 << 11 : 0) | (1 << 12) | (dllActive ? 1 << 13 : 0);
    const index = linkControl >> 2;
    const keptStatus = (this.value[index] >>> 16) & 0xc000;
    this.value[index] = ((this.value[index] & 0xffff) | ((status | keptStatus) << 16)) >>> 0;
  }
}

export interface Type1HeaderIdentity {
  vendorId: number;
  deviceId: number;
  revisionId: number;
  /** Offset of the first capability. */
  capPointer: number;
}

/** The type-1 header of a PCIe bridge function (root port or switch port), single function, no BARs. */
export function defineType1Header(regs: ConfigRegisters, id: Type1HeaderIdentity): void {
  regs.define(BridgeReg.id, 2, { reset: id.vendorId });
  regs.define(BridgeReg.id + 2, 2, { reset: id.deviceId });
  // Command: I/O (no I/O window, but the bit is RW on PCIe bridges), memory, bus master, parity response,
  // SERR#, interrupt disable; the legacy bits are RO 0 in PCIe.
  regs.define(BridgeReg.command, 2, { rw: 0x0547 });
  // Status: capabilities list (RO 1); master data parity, target/master abort, SERR, parity: RW1C.
  regs.define(BridgeReg.status, 2, { reset: 1 << 4, rw1c: 0xf900 });
  regs.define(BridgeReg.classRevision, 4, { reset: ((0x060400 << 8) | (id.revisionId & 0xff)) >>> 0 }); // PCI-to-PCI bridge
  regs.define(BridgeReg.cacheLineSize, 1, { rw: 0xff }); // latency timer 0 (PCIe)
  regs.define(BridgeReg.headerType, 1, { reset: 0x01 }); // type 1, single function (bit 7 clear)
  // BAR0/BAR1 not implemented: read-only 0.
  regs.define(BridgeReg.busNumbers, 1, { rw: 0xff }); // primary bus
  regs.define(BridgeReg.busNumbers + 1, 1, { rw: 0xff }); // secondary bus
  regs.define(BridgeReg.busNumbers + 2, 1, { rw: 0xff }); // subordinate bus
  // Secondary latency timer RO 0 (PCIe). I/O base/limit RO 0: no I/O window.
  regs.define(BridgeReg.secondaryStatus, 2, { rw1c: 0xf900 });
  regs.define(BridgeReg.memoryBase, 2, { rw: 0xfff0 });
  regs.define(BridgeReg.memoryLimit, 2, { rw: 0xfff0 });
  regs.define(BridgeReg.prefetchBase, 2, { reset: 0x0001, rw: 0xfff0 }); // [3:0] = 1: 64-bit decode
  regs.define(BridgeReg.prefetchLimit, 2, { reset: 0x0001, rw: 0xfff0 });
  regs.define(BridgeReg.prefetchBaseUpper, 4, { rw: 0xffffffff });
  regs.define(BridgeReg.prefetchLimitUpper, 4, { rw: 0xffffffff });
  regs.define(BridgeReg.capPointer, 1, { reset: id.capPointer });
  regs.define(BridgeReg.interruptLine, 1, { rw: 0xff }); // interrupt pin 0: the port raises no INTx itself
  // Bridge Control: parity response, SERR#, ISA, VGA, VGA 16-bit decode, Secondary Bus Reset.
  regs.define(BridgeReg.bridgeControl, 2, { rw: 0x005f });
}

function expandByteEnable(byteEnable: number): number {
  return ((byteEnable & 1 ? 0xff : 0) | (byteEnable & 2 ? 0xff00 : 0) | (byteEnable & 4 ? 0xff0000 : 0) | (byteEnable & 8 ? 0xff000000 : 0)) >>> 0;
}
