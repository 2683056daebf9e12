// The root port's own type-1 configuration space as the cfg_mgmt port sees it (facts digest §A.7, §C.2–C.6):
// header, PM cap at 0x40, MSI cap at 0x48, PCI Express cap at 0x60, no extended capabilities. Each bit is
// read-only, read-write or write-1-to-clear; cfg_mgmt_wr_readonly makes RO bits writable and
// cfg_mgmt_wr_rw1c_as_rw makes RW1C bits plain RW, as on the 7-series core.

import type { Generation } from "./link-params.ts";

export const PCIE_CAP_OFFSET = 0x60;
export const DEVICE_CONTROL = PCIE_CAP_OFFSET + 0x08;
export const LINK_CONTROL = PCIE_CAP_OFFSET + 0x10;
export const LINK_CONTROL_2 = PCIE_CAP_OFFSET + 0x30;

export interface RootPortIdentity {
  vendorId: number;
  deviceId: number;
  generation: Generation;
  lanes: number;
  mpsSupported: number;
  mps: number;
  mrrs: number;
  rcb: 64 | 128;
}

interface FieldSpec {
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

export class RootPortConfigSpace {
  private readonly value = new Uint32Array(1024);
  private readonly rwMask = new Uint32Array(1024);
  private readonly rw1cMask = new Uint32Array(1024);
  private retrainRequested = false;

  constructor(private readonly identity: RootPortIdentity) {
    this.buildHeader();
    this.buildCapabilities();
  }

  /** Read the DW at `dwAddress` (byte offset / 4), normal register bit numbering. */
  read(dwAddress: number): number {
    return this.value[dwAddress & 0x3ff];
  }

  readByteOffset(byteOffset: number, size: 1 | 2 | 4): number {
    const dw = this.read(byteOffset >> 2);
    const shifted = dw >>> ((byteOffset & 3) * 8);
    return size === 4 ? dw : shifted & (size === 1 ? 0xff : 0xffff);
  }

  /** Write with per-byte enables (bit i = byte 4n+i) under RO/RW/RW1C rules. */
  write(dwAddress: number, data: number, byteEnable: number, flags: ConfigWriteFlags = {}): void {
    const index = dwAddress & 0x3ff;
    const byteMask = expandByteEnable(byteEnable);
    const rw1c = this.rw1cMask[index];
    let writable = this.rwMask[index];
    if (flags.readonly) writable |= ~rw1c;
    if (flags.rw1cAsRw) writable |= rw1c;
    writable &= byteMask;
    let next = (this.value[index] & ~writable) | (data & writable);
    if (!flags.rw1cAsRw) next &= ~(data & rw1c & byteMask);
    this.value[index] = next >>> 0;
    if (index === LINK_CONTROL >> 2 && next & (1 << 5)) {
      this.retrainRequested = true;
      this.value[index] &= ~(1 << 5); // Retrain Link always reads 0
    }
  }

  /** Software set Link Control.Retrain and the link model has not taken the request yet. */
  get retrainPending(): boolean {
    return this.retrainRequested;
  }

  /** Software set Link Control.Retrain since the link model last looked; reading clears it. */
  takeRetrainRequest(): boolean {
    const requested = this.retrainRequested;
    this.retrainRequested = false;
    return requested;
  }

  /** Device Control Max_Payload_Size in bytes. */
  get maxPayloadSize(): number {
    return 128 << ((this.readByteOffset(DEVICE_CONTROL, 2) >> 5) & 7);
  }

  /** Device Control Max_Read_Request_Size in bytes. */
  get maxReadRequestSize(): number {
    return 128 << ((this.readByteOffset(DEVICE_CONTROL, 2) >> 12) & 7);
  }

  /** Device Control Extended Tag Field Enable: the root port may use 8-bit tags (else tags are 0..31). */
  get extendedTagEnabled(): boolean {
    return ((this.readByteOffset(DEVICE_CONTROL, 2) >> 8) & 1) === 1;
  }

  /** Secondary Bus Number (the bus directly below the port). */
  get secondaryBus(): number {
    return this.readByteOffset(0x19, 1);
  }

  /** Subordinate Bus Number (the highest bus below the port). */
  get subordinateBus(): number {
    return this.readByteOffset(0x1a, 1);
  }

  /** Link Control 2 Target Link Speed (1 = 2.5, 2 = 5, 3 = 8 GT/s). */
  get targetLinkSpeed(): number {
    return this.readByteOffset(LINK_CONTROL_2, 2) & 0xf;
  }

  /** Link Control Read Completion Boundary in bytes. */
  get readCompletionBoundary(): 64 | 128 {
    return this.readByteOffset(LINK_CONTROL, 2) & 0x8 ? 128 : 64;
  }

  /** Hardware updates Link Status: current speed, negotiated width, training, Data Link Layer active. */
  setLinkStatus(speed: number, width: number, training: boolean, dllActive: boolean): void {
    const status = (speed & 0xf) | ((width & 0x3f) << 4) | (training ? 1 << 11 : 0) | (1 << 12) | (dllActive ? 1 << 13 : 0);
    const index = LINK_CONTROL >> 2;
    const keptStatus = (this.value[index] >>> 16) & 0xc000; // RW1C bandwidth-status bits
    this.value[index] = ((this.value[index] & 0xffff) | ((status | keptStatus) << 16)) >>> 0;
  }

  /** Hardware sets error-status bits (RW1C) in Device Status: 0 correctable, 1 non-fatal, 2 fatal, 3 UR. */
  reportDeviceError(bit: 0 | 1 | 2 | 3): void {
    this.value[DEVICE_CONTROL >> 2] |= 1 << (16 + bit);
  }

  private define(byteOffset: number, bytes: 1 | 2 | 4, spec: FieldSpec): void {
    const index = byteOffset >> 2;
    const shift = (byteOffset & 3) * 8;
    const width = bytes === 4 ? 0xffffffff : (1 << (bytes * 8)) - 1;
    const place = (v: number | undefined) => (((v ?? 0) & width) << shift) >>> 0;
    const clear = ~(width << shift);
    this.value[index] = ((this.value[index] & clear) | place(spec.reset)) >>> 0;
    this.rwMask[index] = ((this.rwMask[index] & clear) | place(spec.rw)) >>> 0;
    this.rw1cMask[index] = ((this.rw1cMask[index] & clear) | place(spec.rw1c)) >>> 0;
  }

  private buildHeader(): void {
    const id = this.identity;
    this.define(0x00, 2, { reset: id.vendorId });
    this.define(0x02, 2, { reset: id.deviceId });
    // Command: I/O, memory, bus master, parity response, SERR#, interrupt disable.
    this.define(0x04, 2, { rw: 0x0547 });
    // Status: capabilities list (RO 1); parity/abort/SERR bits RW1C.
    this.define(0x06, 2, { reset: 1 << 4, rw1c: 0xf900 });
    this.define(0x08, 4, { reset: 0x0604_0000 }); // class: PCI-to-PCI bridge, revision 0
    this.define(0x0c, 1, { rw: 0xff }); // cache line size
    this.define(0x0e, 1, { reset: 0x01 }); // header type 1
    // BAR0/BAR1 disabled (§A.1): read-only zero.
    this.define(0x18, 1, { rw: 0xff }); // primary bus
    this.define(0x19, 1, { rw: 0xff }); // secondary bus
    this.define(0x1a, 1, { rw: 0xff }); // subordinate bus
    this.define(0x1e, 2, { rw1c: 0xf900 }); // secondary status; no I/O window (0x1C/0x1D read 0)
    this.define(0x20, 2, { rw: 0xfff0 }); // memory base
    this.define(0x22, 2, { rw: 0xfff0 }); // memory limit
    this.define(0x24, 2, { reset: 0x0001, rw: 0xfff0 }); // prefetchable base, 64-bit
    this.define(0x26, 2, { reset: 0x0001, rw: 0xfff0 }); // prefetchable limit, 64-bit
    this.define(0x28, 4, { rw: 0xffffffff }); // prefetchable base upper
    this.define(0x2c, 4, { rw: 0xffffffff }); // prefetchable limit upper
    this.define(0x34, 1, { reset: 0x40 }); // capabilities pointer
    this.define(0x3c, 1, { rw: 0xff }); // interrupt line
    this.define(0x3e, 2, { rw: 0x005f }); // bridge control: parity, SERR#, ISA, VGA, VGA16, secondary bus reset
  }

  private buildCapabilities(): void {
    const id = this.identity;
    // Power management: version 3, D0 only.
    this.define(0x40, 2, { reset: 0x4801 });
    this.define(0x42, 2, { reset: 0x0003 });
    this.define(0x44, 2, { rw: 0x0103, rw1c: 0x8000 });
    // MSI: 64-bit capable, one vector.
    this.define(0x48, 2, { reset: 0x6005 });
    this.define(0x4a, 2, { reset: 0x0080, rw: 0x0001 });
    this.define(0x4c, 4, { rw: 0xfffffffc });
    this.define(0x50, 4, { rw: 0xffffffff });
    this.define(0x54, 2, { rw: 0xffff });
    // PCI Express capability, version 2, Root Port, end of list.
    this.define(PCIE_CAP_OFFSET, 2, { reset: 0x0010 });
    this.define(PCIE_CAP_OFFSET + 0x02, 2, { reset: 0x0042 });
    // Device Capabilities: MPS supported, extended tags, role-based error reporting.
    this.define(PCIE_CAP_OFFSET + 0x04, 4, { reset: sizeCode(id.mpsSupported) | (1 << 5) | (1 << 15) });
    // Device Control: error reporting enables, RO, MPS, ExtTag, AuxPM, NS, MRRS, bridge CRS retry.
    const devCtl = (1 << 4) | (sizeCode(id.mps) << 5) | (1 << 11) | (sizeCode(id.mrrs) << 12);
    this.define(DEVICE_CONTROL, 2, { reset: devCtl, rw: 0xfdff });
    this.define(DEVICE_CONTROL + 2, 2, { rw1c: 0x000f });
    // Link Capabilities: speed, width, L0s supported, DLL link-active reporting capable.
    const linkCap = id.generation | (id.lanes << 4) | (0b01 << 10) | (1 << 20);
    this.define(PCIE_CAP_OFFSET + 0x0c, 4, { reset: linkCap });
    // Link Control: ASPM, RCB (RO for a root port), link disable, retrain, common clock, ext sync, clock PM,
    // HW autonomous width disable, bandwidth interrupt enables.
    this.define(LINK_CONTROL, 2, { reset: id.rcb === 128 ? 0x8 : 0, rw: 0x0ff3 });
    this.define(LINK_CONTROL + 2, 2, { rw1c: 0xc000 });
    this.define(PCIE_CAP_OFFSET + 0x1c, 2, { rw: 0x001f }); // root control
    this.define(PCIE_CAP_OFFSET + 0x20, 4, { rw1c: 0x0001_0000 }); // root status: PME status
    // Device Capabilities 2: completion timeout ranges A-D, disable supported.
    this.define(PCIE_CAP_OFFSET + 0x24, 4, { reset: 0x1f });
    this.define(PCIE_CAP_OFFSET + 0x28, 2, { rw: 0x001f });
    // Link Capabilities 2: supported speeds vector; Link Control 2 target link speed.
    this.define(PCIE_CAP_OFFSET + 0x2c, 4, { reset: ((1 << id.generation) - 1) << 1 });
    this.define(LINK_CONTROL_2, 2, { reset: id.generation, rw: 0x003f });
  }
}

/** Device Control/Capabilities size encoding: 128 B -> 0, 256 -> 1, ... 4096 -> 5. */
export function sizeCode(bytes: number): number {
  return Math.log2(bytes) - 7;
}

function expandByteEnable(byteEnable: number): number {
  return (
    ((byteEnable & 1 ? 0xff : 0) | (byteEnable & 2 ? 0xff00 : 0) | (byteEnable & 4 ? 0xff0000 : 0) | (byteEnable & 8 ? 0xff000000 : 0)) >>>
    0
  );
}
