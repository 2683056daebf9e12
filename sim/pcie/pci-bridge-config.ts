// The type-1 configuration space of one port of a PCIe switch: a virtual PCI-to-PCI bridge (facts digest
// §C.2–C.6; PCI-to-PCI Bridge Architecture 1.2 and PCIe Base 2.1 §7.5). Header: class 0604, header type 01h,
// no BARs, bus numbers, a non-prefetchable memory window, a 64-bit prefetchable window, no I/O window (its
// registers read 0, as the spec allows for a bridge without one), Bridge Control. Capabilities: power
// management at 0x40, MSI at 0x48, PCI Express at 0x68 (end of list), which makes an enumerator walk the
// list as it must on real switches. Every bit is read-only, read-write or write-1-to-clear. The header and
// the register rules are config-registers.ts', shared with the root port (rp-config-space.ts).
//
// The switch model (pcie-switch.ts) reads its routing state here: bus numbers, windows, Command.MSE/BME,
// Device Control.MPS, Bridge Control.Secondary Bus Reset; and writes the hardware-owned fields (Link
// Status, Slot Status presence, error status bits).

import { BridgeReg, ConfigRegisters, defineType1Header } from "./config-registers.ts";
import type { Generation } from "./link-params.ts";
import { sizeCode } from "./rp-config-space.ts";

export const BRIDGE_PM_CAP = 0x40;
export const BRIDGE_MSI_CAP = 0x48;
export const BRIDGE_PCIE_CAP = 0x68;

/** PCI Express Capabilities Device/Port Type of a switch port. */
export const PortType = { upstream: 0b0101, downstream: 0b0110 } as const;
export type PortType = (typeof PortType)[keyof typeof PortType];

export const BridgeCommand = { io: 1 << 0, memory: 1 << 1, busMaster: 1 << 2 } as const;
/** Bridge Control bit 6. */
export const SECONDARY_BUS_RESET = 1 << 6;

/** Header offsets of the type-1 fields the switch and its tests use. */
export { BridgeReg } from "./config-registers.ts";

/** Offsets inside the PCI Express capability. */
export const PcieCapReg = {
  capabilities: 0x02,
  deviceCapabilities: 0x04,
  deviceControl: 0x08,
  deviceStatus: 0x0a,
  linkCapabilities: 0x0c,
  linkControl: 0x10,
  linkStatus: 0x12,
  slotCapabilities: 0x14,
  slotControl: 0x18,
  slotStatus: 0x1a,
  deviceCapabilities2: 0x24,
  deviceControl2: 0x28,
  linkCapabilities2: 0x2c,
  linkControl2: 0x30,
  linkStatus2: 0x32,
} as const;

export interface BridgeIdentity {
  vendorId: number;
  deviceId: number;
  revisionId: number;
  portType: PortType;
  /** Link Capabilities Port Number. */
  portNumber: number;
  /** The port's own link capabilities (the link trains at the lower of both ends). */
  maxSpeed: Generation;
  maxWidth: number;
  mpsSupported: number;
  /** Downstream ports: the Slot Implemented bit and Slot Capabilities' Physical Slot Number (0 = no slot). */
  slotNumber: number;
}

/** A memory range [base, limit] (inclusive) or closed (undefined). */
export interface AddressWindow {
  base: bigint;
  limit: bigint;
}

const ONE_MIB_MASK = 0xfffffn;

export class BridgeConfigSpace {
  private readonly regs = new ConfigRegisters();
  private retrainRequested = false;

  constructor(readonly identity: BridgeIdentity) {
    this.reset();
  }

  /** Conventional reset (PERST#, or a hot reset from above): every register to its reset value. */
  reset(): void {
    this.regs.clear();
    this.retrainRequested = false;
    this.buildHeader();
    this.buildCapabilities();
  }

  /** The DW at byte offset `register` (a multiple of 4), normal bit numbering. */
  readDword(register: number): number {
    return this.regs.value[(register >> 2) & 0x3ff];
  }

  /** Write the bytes enabled in `firstBe`; `data` is the TLP's 4 bytes in config-address order. */
  writeDword(register: number, firstBe: number, data: Uint8Array): void {
    const value = (data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)) >>> 0;
    this.write32(register, value, firstBe);
  }

  /** Write `value` under the byte enables, RO/RW/RW1C rules applied. */
  write32(register: number, value: number, byteEnable = 0xf): void {
    const index = (register >> 2) & 0x3ff;
    const next = this.regs.write(index, value, byteEnable);
    const linkControl = (BRIDGE_PCIE_CAP + PcieCapReg.linkControl) >> 2;
    if (index === linkControl && next & (1 << 5) && this.identity.portType === PortType.downstream) {
      this.retrainRequested = true;
      this.regs.value[index] &= ~(1 << 5); // Retrain Link always reads 0
    }
  }

  read16(offset: number): number {
    return (this.readDword(offset & ~3) >>> ((offset & 2) * 8)) & 0xffff;
  }

  read8(offset: number): number {
    return (this.readDword(offset & ~3) >>> ((offset & 3) * 8)) & 0xff;
  }

  get command(): number {
    return this.read16(BridgeReg.command);
  }
  /** Memory Space Enable: memory requests from the primary side are forwarded through the windows. */
  get memorySpaceEnabled(): boolean {
    return (this.command & BridgeCommand.memory) !== 0;
  }
  /** Bus Master Enable: memory requests from the secondary side are forwarded upstream. */
  get busMasterEnabled(): boolean {
    return (this.command & BridgeCommand.busMaster) !== 0;
  }
  get primaryBus(): number {
    return this.read8(BridgeReg.busNumbers);
  }
  get secondaryBus(): number {
    return this.read8(BridgeReg.busNumbers + 1);
  }
  get subordinateBus(): number {
    return this.read8(BridgeReg.busNumbers + 2);
  }
  /** Bus `bus` lies below this bridge (secondary..subordinate). */
  claimsBus(bus: number): boolean {
    const secondary = this.secondaryBus;
    return secondary !== 0 && bus >= secondary && bus <= this.subordinateBus;
  }

  /** The non-prefetchable memory window: 1 MiB granular, 32-bit; undefined when base > limit. */
  get memoryWindow(): AddressWindow | undefined {
    const base = BigInt(this.read16(BridgeReg.memoryBase) & 0xfff0) << 16n;
    const limit = (BigInt(this.read16(BridgeReg.memoryLimit) & 0xfff0) << 16n) | ONE_MIB_MASK;
    return base <= limit ? { base, limit } : undefined;
  }

  /** The prefetchable memory window with its upper 32 bits (64-bit decode); undefined when base > limit. */
  get prefetchableWindow(): AddressWindow | undefined {
    const base = (BigInt(this.readDword(BridgeReg.prefetchBaseUpper)) << 32n) | (BigInt(this.read16(BridgeReg.prefetchBase) & 0xfff0) << 16n);
    const limit = (BigInt(this.readDword(BridgeReg.prefetchLimitUpper)) << 32n) | (BigInt(this.read16(BridgeReg.prefetchLimit) & 0xfff0) << 16n) | ONE_MIB_MASK;
    return base <= limit ? { base, limit } : undefined;
  }

  /** The request [address, address + bytes) falls entirely inside one of the memory windows. */
  windowClaims(address: bigint, bytes: number): boolean {
    const last = address + BigInt(Math.max(bytes, 1)) - 1n;
    const m = this.memoryWindow;
    if (m !== undefined && address >= m.base && last <= m.limit) return true;
    const p = this.prefetchableWindow;
    return p !== undefined && address >= p.base && last <= p.limit;
  }

  /** Device Control Max_Payload_Size in bytes. */
  get maxPayloadBytes(): number {
    return 128 << ((this.read16(BRIDGE_PCIE_CAP + PcieCapReg.deviceControl) >> 5) & 7);
  }

  get secondaryBusReset(): boolean {
    return (this.read16(BridgeReg.bridgeControl) & SECONDARY_BUS_RESET) !== 0;
  }

  /** Link Control.Retrain was written 1 and the switch has not taken the request yet. */
  get retrainPending(): boolean {
    return this.retrainRequested;
  }

  /** Link Control.Link Disable (downstream ports). */
  get linkDisabled(): boolean {
    return this.identity.portType === PortType.downstream && (this.read16(BRIDGE_PCIE_CAP + PcieCapReg.linkControl) & (1 << 4)) !== 0;
  }

  /** Link Control 2 Target Link Speed. */
  get targetLinkSpeed(): number {
    return this.read16(BRIDGE_PCIE_CAP + PcieCapReg.linkControl2) & 0xf;
  }

  /** Link Control.Retrain was written 1 since the last look; reading clears it. */
  takeRetrainRequest(): boolean {
    const requested = this.retrainRequested;
    this.retrainRequested = false;
    return requested;
  }

  /** Hardware: Link Status (speed, negotiated width, Link Training, Data Link Layer Link Active). */
  setLinkStatus(speed: number, width: number, training: boolean, dllActive: boolean): void {
    this.regs.setLinkStatus(BRIDGE_PCIE_CAP + PcieCapReg.linkControl, speed, width, training, dllActive);
  }

  /** Hardware: Slot Status Presence Detect State (downstream ports with a slot). */
  setPresence(present: boolean): void {
    if (this.identity.slotNumber === 0) return;
    const index = (BRIDGE_PCIE_CAP + PcieCapReg.slotControl) >> 2;
    const presence = 1 << (16 + 6);
    this.regs.value[index] = (present ? this.regs.value[index] | presence : this.regs.value[index] & ~presence) >>> 0;
  }

  /** Hardware: an error-status bit (RW1C) in Device Status: 0 correctable, 1 non-fatal, 2 fatal, 3 UR. */
  reportDeviceError(bit: 0 | 1 | 2 | 3): void {
    this.regs.value[(BRIDGE_PCIE_CAP + PcieCapReg.deviceControl) >> 2] |= 1 << (16 + bit);
  }

  /** Hardware: Secondary Status bit (RW1C): 13 Received Master Abort (a UR seen from below), 14 system error. */
  reportSecondaryStatus(bit: 8 | 11 | 12 | 13 | 14 | 15): void {
    this.regs.value[BridgeReg.ioBaseLimit >> 2] |= 1 << (16 + bit);
  }

  /** Hardware: primary-side Status bit (RW1C), e.g. 11 Signaled Target Abort, 13 Received Master Abort. */
  reportStatus(bit: 8 | 11 | 12 | 13 | 14 | 15): void {
    this.regs.value[BridgeReg.command >> 2] |= 1 << (16 + bit);
  }

  private buildHeader(): void {
    const id = this.identity;
    defineType1Header(this.regs, { vendorId: id.vendorId, deviceId: id.deviceId, revisionId: id.revisionId, capPointer: BRIDGE_PM_CAP });
  }

  private buildCapabilities(): void {
    const id = this.identity;
    // Power management v1.2 (version 3), D0/D3hot, next: MSI.
    this.regs.define(BRIDGE_PM_CAP, 2, { reset: 0x01 | (BRIDGE_MSI_CAP << 8) });
    this.regs.define(BRIDGE_PM_CAP + 2, 2, { reset: 0x0003 });
    this.regs.define(BRIDGE_PM_CAP + 4, 2, { reset: 1 << 3, rw: 0x0003 }); // No_Soft_Reset; power state RW
    // MSI: 64-bit capable, one vector, next: PCI Express.
    this.regs.define(BRIDGE_MSI_CAP, 2, { reset: 0x05 | (BRIDGE_PCIE_CAP << 8) });
    this.regs.define(BRIDGE_MSI_CAP + 2, 2, { reset: 0x0080, rw: 0x0001 });
    this.regs.define(BRIDGE_MSI_CAP + 4, 4, { rw: 0xfffffffc });
    this.regs.define(BRIDGE_MSI_CAP + 8, 4, { rw: 0xffffffff });
    this.regs.define(BRIDGE_MSI_CAP + 12, 2, { rw: 0xffff });
    const c = BRIDGE_PCIE_CAP;
    const slot = id.portType === PortType.downstream && id.slotNumber > 0;
    this.regs.define(c, 2, { reset: 0x10 }); // PCI Express, end of list
    this.regs.define(c + PcieCapReg.capabilities, 2, { reset: 0x2 | (id.portType << 4) | (slot ? 1 << 8 : 0) });
    // Device Capabilities: MPS supported, extended tags, role-based error reporting.
    this.regs.define(c + PcieCapReg.deviceCapabilities, 4, { reset: sizeCode(id.mpsSupported) | (1 << 5) | (1 << 15) });
    // Device Control: reset relaxed ordering, no snoop, MPS 128 B, MRRS 512 B; phantom functions and bit 15 RO 0.
    this.regs.define(c + PcieCapReg.deviceControl, 2, { reset: 0x2810, rw: 0x7dff });
    this.regs.define(c + PcieCapReg.deviceStatus, 2, { rw1c: 0x000f });
    // Link Capabilities: speed, width, ASPM L0s/L1, DLL Link Active Reporting (downstream ports), port number.
    const dllReporting = id.portType === PortType.downstream ? 1 << 20 : 0;
    const linkCap = id.maxSpeed | (id.maxWidth << 4) | (0b11 << 10) | dllReporting | ((id.portNumber & 0xff) << 24);
    this.regs.define(c + PcieCapReg.linkCapabilities, 4, { reset: linkCap >>> 0 });
    // Link Control: ASPM, RCB (RO 0 on switch ports), link disable and retrain (downstream ports), common
    // clock, extended sync, clock PM, HW autonomous width disable, bandwidth interrupt enables.
    const linkControlRw = id.portType === PortType.downstream ? 0x0ff3 : 0x0fc3;
    this.regs.define(c + PcieCapReg.linkControl, 2, { rw: linkControlRw });
    this.regs.define(c + PcieCapReg.linkStatus, 2, { reset: id.maxSpeed | (1 << 12), rw1c: 0xc000 });
    if (slot) {
      // Slot Capabilities: no power controller, no attention button, physical slot number.
      this.regs.define(c + PcieCapReg.slotCapabilities, 4, { reset: ((id.slotNumber & 0x1fff) << 19) >>> 0 });
      this.regs.define(c + PcieCapReg.slotControl, 2, { rw: 0x1fff });
      // Slot Status: Presence Detect State (RO, set by the switch), change bits RW1C.
      this.regs.define(c + PcieCapReg.slotStatus, 2, { rw1c: 0x011f });
    }
    // Device Capabilities 2 / Control 2: no completion timeout (a switch port issues no requests), no ARI forwarding.
    // Link Capabilities 2: supported speeds vector; Link Control 2: target link speed.
    this.regs.define(c + PcieCapReg.linkCapabilities2, 4, { reset: ((1 << id.maxSpeed) - 1) << 1 });
    this.regs.define(c + PcieCapReg.linkControl2, 2, { reset: id.maxSpeed, rw: 0x003f });
  }
}
