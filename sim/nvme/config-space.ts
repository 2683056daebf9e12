// The SSD's PCI type-0 configuration space (facts digest §C): header with a 64-bit (or 32-bit) BAR0, a PCI Express
// capability (DevCap/DevCtl/LinkStatus), an MSI-X capability and a PM capability. Every byte has a
// write mask and a write-1-to-clear mask, so BAR sizing, Command/Status and DevCtl behave as in hardware.

export interface ConfigSpaceOptions {
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number;
  subsystemId: number;
  revisionId: number;
  /** BAR0 size in bytes, a power of two >= 16 KiB. */
  bar0Size: number;
  /** 64: BAR0 is a 64-bit BAR spanning 0x10 and 0x14 (default); 32: a 32-bit BAR, 0x14 unimplemented. */
  bar0AddressBits?: 32 | 64;
  /** Class code at 0x09..0x0B (default 0x010802, NVMe). */
  classCode?: number;
  /** DevCap Max_Payload_Size Supported in bytes (128..4096). */
  maxPayloadSupported: number;
  /** Link Capabilities/Status: speed code (1 = 2.5, 2 = 5, 3 = 8 GT/s) and width. */
  linkSpeed: number;
  linkWidth: number;
  msixVectors: number;
  msixTableOffset: number;
  msixPbaOffset: number;
}

export const PCIE_CAP = 0x40;
export const MSIX_CAP = 0x80;
export const PM_CAP = 0x90;

const COMMAND_MEMORY_ENABLE = 1 << 1;
const COMMAND_BUS_MASTER = 1 << 2;
const COMMAND_INTX_DISABLE = 1 << 10;
const DEVSTATUS_UR_DETECTED = 1 << 3;

export function payloadCode(bytes: number): number {
  const code = Math.log2(bytes) - 7;
  if (!Number.isInteger(code) || code < 0 || code > 5) throw new Error(`payload size ${bytes} is not a power of two in 128..4096`);
  return code;
}

export class ConfigSpace {
  private readonly bytes = new Uint8Array(4096);
  private readonly writable = new Uint8Array(4096);
  private readonly clearOnOne = new Uint8Array(4096);

  constructor(private readonly opts: ConfigSpaceOptions) {
    this.reset();
  }

  reset(): void {
    this.bytes.fill(0);
    this.writable.fill(0);
    this.clearOnOne.fill(0);
    const o = this.opts;
    this.init16(0x00, o.vendorId);
    this.init16(0x02, o.deviceId);
    this.init16(0x04, 0, 0x0547); // I/O, MSE, BME, parity response, SERR#, INTx disable
    this.init16(0x06, 1 << 4, 0, 0xf900); // capabilities list; error bits are RW1C
    this.init32(0x08, (((o.classCode ?? 0x010802) & 0xffffff) << 8) | (o.revisionId & 0xff));
    this.init8(0x0c, 0, 0xff); // cache line size
    const bar0Mask = (~(o.bar0Size - 1) & 0xfffffff0) >>> 0;
    if (this.bar0Is64Bit) {
      this.init32(0x10, 0b0100, bar0Mask); // 64-bit memory BAR, low half
      this.init32(0x14, 0, 0xffffffff); // BAR0 high half
    } else {
      this.init32(0x10, 0b0000, bar0Mask); // 32-bit memory BAR; BAR1 (0x14) reads 0
    }
    this.init16(0x2c, o.subsystemVendorId);
    this.init16(0x2e, o.subsystemId);
    this.init8(0x34, PCIE_CAP);
    this.init8(0x3c, 0, 0xff); // interrupt line
    this.init8(0x3d, 1); // INTA
    this.initPcieCapability();
    this.initMsixCapability();
    this.initPmCapability();
  }

  /** Read the DW at `register` (a multiple of 4), as a little-endian value. */
  readDword(register: number): number {
    const b = this.bytes;
    return (b[register] | (b[register + 1] << 8) | (b[register + 2] << 16) | (b[register + 3] << 24)) >>> 0;
  }

  /** Write the bytes whose bit is set in `firstBe`; `data` holds the 4 bytes in config-address order. */
  writeDword(register: number, firstBe: number, data: Uint8Array): void {
    for (let k = 0; k < 4; k++) {
      if (((firstBe >> k) & 1) === 0) continue;
      const at = register + k;
      const value = data[k];
      const kept = this.bytes[at] & ~this.writable[at] & ~this.clearOnOne[at];
      const written = value & this.writable[at];
      const survivingW1c = this.bytes[at] & this.clearOnOne[at] & ~value;
      this.bytes[at] = kept | written | survivingW1c;
    }
  }

  get command(): number {
    return this.read16(0x04);
  }
  get memorySpaceEnabled(): boolean {
    return (this.command & COMMAND_MEMORY_ENABLE) !== 0;
  }
  get busMasterEnabled(): boolean {
    return (this.command & COMMAND_BUS_MASTER) !== 0;
  }
  get intxDisabled(): boolean {
    return (this.command & COMMAND_INTX_DISABLE) !== 0;
  }
  get bar0Is64Bit(): boolean {
    return (this.opts.bar0AddressBits ?? 64) === 64;
  }
  get bar0Base(): bigint {
    const low = BigInt((this.readDword(0x10) & 0xfffffff0) >>> 0);
    return this.bar0Is64Bit ? (BigInt(this.readDword(0x14)) << 32n) | low : low;
  }
  get bar0Size(): number {
    return this.opts.bar0Size;
  }
  private get deviceControl(): number {
    return this.read16(PCIE_CAP + 0x08);
  }
  /** Max_Payload_Size programmed in Device Control, in bytes. */
  get maxPayloadBytes(): number {
    return 128 << ((this.deviceControl >> 5) & 7);
  }
  /** Max_Read_Request_Size programmed in Device Control, in bytes. */
  get maxReadRequestBytes(): number {
    return 128 << ((this.deviceControl >> 12) & 7);
  }
  get extendedTagEnabled(): boolean {
    return ((this.deviceControl >> 8) & 1) === 1;
  }
  /** Completion Timeout Value (DevCtl2[3:0]) and disable (DevCtl2[4]). */
  get completionTimeoutControl(): { value: number; disabled: boolean } {
    const v = this.read16(PCIE_CAP + 0x28);
    return { value: v & 0xf, disabled: ((v >> 4) & 1) === 1 };
  }
  private get msixControl(): number {
    return this.read16(MSIX_CAP + 0x02);
  }
  get msixEnabled(): boolean {
    return ((this.msixControl >> 15) & 1) === 1;
  }
  get msixFunctionMasked(): boolean {
    return ((this.msixControl >> 14) & 1) === 1;
  }

  /** Device Status.UR Detected, set whenever the function answers a request with UR. */
  noteUnsupportedRequest(): void {
    this.bytes[PCIE_CAP + 0x0a] |= DEVSTATUS_UR_DETECTED;
  }

  private initPcieCapability(): void {
    const o = this.opts;
    const c = PCIE_CAP;
    this.init8(c, 0x10);
    this.init8(c + 1, MSIX_CAP);
    this.init16(c + 0x02, 0x0002); // version 2, PCI Express Endpoint
    const devCap = payloadCode(o.maxPayloadSupported) | (1 << 5) | (1 << 15); // ExtTag, role-based errors
    this.init32(c + 0x04, devCap);
    // Device Control: reset 0x2810 (relaxed ordering, no snoop, MRRS 512 B, MPS 128 B); bit 15 (FLR) is not supported.
    this.init16(c + 0x08, 0x2810, 0x7dff);
    this.init16(c + 0x0a, 0, 0, 0x000f);
    this.init32(c + 0x0c, (o.linkSpeed & 0xf) | ((o.linkWidth & 0x3f) << 4));
    this.init16(c + 0x10, 0, 0x0fcb);
    this.init16(c + 0x12, (o.linkSpeed & 0xf) | ((o.linkWidth & 0x3f) << 4) | (1 << 12));
    this.init32(c + 0x24, 0x1f); // completion timeout ranges A-D and disable supported
    this.init16(c + 0x28, 0, 0x001f);
    let speeds = 0;
    for (let s = 1; s <= o.linkSpeed; s++) speeds |= 1 << s;
    this.init32(c + 0x2c, speeds);
    this.init16(c + 0x30, o.linkSpeed & 0xf, 0x000f);
  }

  private initMsixCapability(): void {
    const o = this.opts;
    const c = MSIX_CAP;
    this.init8(c, 0x11);
    this.init8(c + 1, PM_CAP);
    this.init16(c + 0x02, (o.msixVectors - 1) & 0x7ff, 0xc000);
    this.init32(c + 0x04, o.msixTableOffset >>> 0); // BIR 0
    this.init32(c + 0x08, o.msixPbaOffset >>> 0); // BIR 0
  }

  private initPmCapability(): void {
    const c = PM_CAP;
    this.init8(c, 0x01);
    this.init8(c + 1, 0);
    this.init16(c + 0x02, 0x0003); // PM spec version 1.2
    this.init16(c + 0x04, 1 << 3, 0x0003); // No_Soft_Reset; power state RW
  }

  private read16(at: number): number {
    return this.bytes[at] | (this.bytes[at + 1] << 8);
  }

  private init8(at: number, value: number, writable = 0, clearOnOne = 0): void {
    this.bytes[at] = value & 0xff;
    this.writable[at] = writable & 0xff;
    this.clearOnOne[at] = clearOnOne & 0xff;
  }

  private init16(at: number, value: number, writable = 0, clearOnOne = 0): void {
    for (let k = 0; k < 2; k++) this.init8(at + k, value >> (8 * k), writable >> (8 * k), clearOnOne >> (8 * k));
  }

  private init32(at: number, value: number, writable = 0, clearOnOne = 0): void {
    for (let k = 0; k < 4; k++) this.init8(at + k, value >>> (8 * k), writable >>> (8 * k), clearOnOne >>> (8 * k));
  }
}
