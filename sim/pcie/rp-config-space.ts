// The root port's own type-1 configuration space as the cfg_mgmt port sees it (facts digest §A.7, §C.2–C.6):
// header, PM cap at 0x40, MSI cap at 0x48, PCI Express cap at 0x60, no extended capabilities. Each bit is
// read-only, read-write or write-1-to-clear; cfg_mgmt_wr_readonly makes RO bits writable and
// cfg_mgmt_wr_rw1c_as_rw makes RW1C bits plain RW, as on the 7-series core.

import { ConfigRegisters, type ConfigWriteFlags, defineType1Header } from "./config-registers.ts";
import type { Generation } from "./link-params.ts";

export type { ConfigWriteFlags } from "./config-registers.ts";

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

export class RootPortConfigSpace {
  private readonly regs = new ConfigRegisters();
  private retrainRequested = false;

  constructor(private readonly identity: RootPortIdentity) {
    this.buildHeader();
    this.buildCapabilities();
  }

  /** Read the DW at `dwAddress` (byte offset / 4), normal register bit numbering. */
  read(dwAddress: number): number {
    return this.regs.value[dwAddress & 0x3ff];
  }

  readByteOffset(byteOffset: number, size: 1 | 2 | 4): number {
    const dw = this.read(byteOffset >> 2);
    const shifted = dw >>> ((byteOffset & 3) * 8);
    return size === 4 ? dw : shifted & (size === 1 ? 0xff : 0xffff);
  }

  /** Write with per-byte enables (bit i = byte 4n+i) under RO/RW/RW1C rules. */
  write(dwAddress: number, data: number, byteEnable: number, flags: ConfigWriteFlags = {}): void {
    const index = dwAddress & 0x3ff;
    const next = this.regs.write(index, data, byteEnable, flags);
    if (index === LINK_CONTROL >> 2 && next & (1 << 5)) {
      this.retrainRequested = true;
      this.regs.value[index] &= ~(1 << 5); // Retrain Link always reads 0
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
    this.regs.setLinkStatus(LINK_CONTROL, speed, width, training, dllActive);
  }

  /** Hardware sets error-status bits (RW1C) in Device Status: 0 correctable, 1 non-fatal, 2 fatal, 3 UR. */
  reportDeviceError(bit: 0 | 1 | 2 | 3): void {
    this.regs.value[DEVICE_CONTROL >> 2] |= 1 << (16 + bit);
  }

  private buildHeader(): void {
    // BAR0/BAR1 disabled (§A.1); capabilities from 0x40.
    defineType1Header(this.regs, { vendorId: this.identity.vendorId, deviceId: this.identity.deviceId, revisionId: 0, capPointer: 0x40 });
  }

  private buildCapabilities(): void {
    const id = this.identity;
    // Power management: version 3, D0 only.
    this.regs.define(0x40, 2, { reset: 0x4801 });
    this.regs.define(0x42, 2, { reset: 0x0003 });
    this.regs.define(0x44, 2, { rw: 0x0103, rw1c: 0x8000 });
    // MSI: 64-bit capable, one vector.
    this.regs.define(0x48, 2, { reset: 0x6005 });
    this.regs.define(0x4a, 2, { reset: 0x0080, rw: 0x0001 });
    this.regs.define(0x4c, 4, { rw: 0xfffffffc });
    this.regs.define(0x50, 4, { rw: 0xffffffff });
    this.regs.define(0x54, 2, { rw: 0xffff });
    // PCI Express capability, version 2, Root Port, end of list.
    this.regs.define(PCIE_CAP_OFFSET, 2, { reset: 0x0010 });
    this.regs.define(PCIE_CAP_OFFSET + 0x02, 2, { reset: 0x0042 });
    // Device Capabilities: MPS supported, extended tags, role-based error reporting.
    this.regs.define(PCIE_CAP_OFFSET + 0x04, 4, { reset: sizeCode(id.mpsSupported) | (1 << 5) | (1 << 15) });
    // Device Control: error reporting enables, RO, MPS, ExtTag, AuxPM, NS, MRRS, bridge CRS retry.
    const devCtl = (1 << 4) | (sizeCode(id.mps) << 5) | (1 << 11) | (sizeCode(id.mrrs) << 12);
    this.regs.define(DEVICE_CONTROL, 2, { reset: devCtl, rw: 0xfdff });
    this.regs.define(DEVICE_CONTROL + 2, 2, { rw1c: 0x000f });
    // Link Capabilities: speed, width, L0s supported, DLL link-active reporting capable.
    const linkCap = id.generation | (id.lanes << 4) | (0b01 << 10) | (1 << 20);
    this.regs.define(PCIE_CAP_OFFSET + 0x0c, 4, { reset: linkCap });
    // Link Control: ASPM, RCB (RO for a root port), link disable, retrain, common clock, ext sync, clock PM,
    // HW autonomous width disable, bandwidth interrupt enables.
    this.regs.define(LINK_CONTROL, 2, { reset: id.rcb === 128 ? 0x8 : 0, rw: 0x0ff3 });
    this.regs.define(LINK_CONTROL + 2, 2, { rw1c: 0xc000 });
    this.regs.define(PCIE_CAP_OFFSET + 0x1c, 2, { rw: 0x001f }); // root control
    this.regs.define(PCIE_CAP_OFFSET + 0x20, 4, { rw1c: 0x0001_0000 }); // root status: PME status
    // Device Capabilities 2: completion timeout ranges A-D, disable supported.
    this.regs.define(PCIE_CAP_OFFSET + 0x24, 4, { reset: 0x1f });
    this.regs.define(PCIE_CAP_OFFSET + 0x28, 2, { rw: 0x001f });
    // Link Capabilities 2: supported speeds vector; Link Control 2 target link speed.
    this.regs.define(PCIE_CAP_OFFSET + 0x2c, 4, { reset: ((1 << id.generation) - 1) << 1 });
    this.regs.define(LINK_CONTROL_2, 2, { reset: id.generation, rw: 0x003f });
  }
}

/** Device Control/Capabilities size encoding: 128 B -> 0, 256 -> 1, ... 4096 -> 5. */
export function sizeCode(bytes: number): number {
  return Math.log2(bytes) - 7;
}
