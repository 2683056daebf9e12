// The NVMe controller registers at BAR0 offsets 0x00..0x3F (facts digest §D): CAP, VS, INTMS/INTMC, CC,
// CSTS, AQA, ASQ, ACQ. This file decodes accesses and keeps the values; what a CC change *does*
// (enable/ready handshake, reset, shutdown) is the controller's business, reported through the hooks.

import { type NvmeField, getBits32, setBits, setBits32 } from "../../rtl-src/nvme/nvme-field.ts";
import { AqaField, AsqField, CapField, CcField, CstsField, NvmeRegister } from "../../rtl-src/nvme/nvme-registers.ts";

export interface CapabilityFields {
  /** Maximum Queue Entries Supported, zero-based. */
  mqes: number;
  /** Ready timeout in 500 ms units. */
  timeout: number;
  /** Doorbell stride: 4 << dstrd bytes. */
  dstrd: number;
  /** Memory page size range: 2^(12+mpsmin) .. 2^(12+mpsmax). */
  mpsmin: number;
  mpsmax: number;
}

export interface RegisterHooks {
  /** CC was written; `previous` is the value before the write. */
  onControllerConfiguration(previous: number, next: number): void;
}

export const REG = Object.fromEntries(Object.entries(NvmeRegister).map(([name, f]) => [name, f.offset])) as { readonly [K in keyof typeof NvmeRegister]: number };

/** The bits of a 32-bit register that `fields` occupy. */
function maskOf(...fields: NvmeField[]): number {
  return fields.reduce((mask, f) => setBits32(mask, f, 0xffffffff), 0);
}

export const CSTS_RDY = maskOf(CstsField.rdy);
export const CSTS_CFS = maskOf(CstsField.cfs);

export const cc = {
  enabled: (v: number) => getBits32(v, CcField.en) === 1,
  css: (v: number) => getBits32(v, CcField.css),
  mps: (v: number) => getBits32(v, CcField.mps),
  ams: (v: number) => getBits32(v, CcField.ams),
  shn: (v: number) => getBits32(v, CcField.shn),
  iosqes: (v: number) => getBits32(v, CcField.iosqes),
  iocqes: (v: number) => getBits32(v, CcField.iocqes),
};
const CC_DEFINED = maskOf(CcField.en, CcField.css, CcField.mps, CcField.ams, CcField.shn, CcField.iosqes, CcField.iocqes);
const CC_CHANGEABLE_WHILE_ENABLED = maskOf(CcField.en, CcField.shn, CcField.iosqes, CcField.iocqes);
const AQA_DEFINED = maskOf(AqaField.asqs, AqaField.acqs);
/** ASQ/ACQ bits [31:12] of the low DW: the page-aligned base. */
const QUEUE_BASE_LOW = Number(setBits(0n, AsqField.base, -1n) & 0xffffffffn);

export class ControllerRegisters {
  readonly cap: bigint;
  readonly version = 0x00010400;
  cc = 0;
  csts = 0;
  aqa = 0;
  asq = 0n;
  acq = 0n;
  /** Pin-interrupt mask set through INTMS/INTMC (ignored while MSI-X is enabled). */
  intMask = 0;

  constructor(
    readonly fields: CapabilityFields,
    private readonly hooks: RegisterHooks,
  ) {
    let cap = setBits(0n, CapField.mqes, fields.mqes);
    cap = setBits(cap, CapField.cqr, 1); // queues must be physically contiguous
    cap = setBits(cap, CapField.to, fields.timeout);
    cap = setBits(cap, CapField.dstrd, fields.dstrd);
    cap = setBits(cap, CapField.css, 1); // the NVM command set
    cap = setBits(cap, CapField.mpsmin, fields.mpsmin);
    this.cap = setBits(cap, CapField.mpsmax, fields.mpsmax);
  }

  /** Back to the power-on values (CAP/VS are constant). */
  reset(): void {
    this.cc = 0;
    this.csts = 0;
    this.aqa = 0;
    this.asq = 0n;
    this.acq = 0n;
    this.intMask = 0;
  }

  get ready(): boolean {
    return (this.csts & CSTS_RDY) !== 0;
  }
  get fatal(): boolean {
    return (this.csts & CSTS_CFS) !== 0;
  }
  get shutdownStatus(): number {
    return getBits32(this.csts, CstsField.shst);
  }
  setReady(on: boolean): void {
    this.csts = on ? this.csts | CSTS_RDY : this.csts & ~CSTS_RDY;
  }
  setFatal(): void {
    this.csts |= CSTS_CFS;
  }
  setShutdownStatus(shst: number): void {
    this.csts = setBits32(this.csts, CstsField.shst, shst);
  }

  /** Whether `offset` (DW aligned, < 0x1000) names a register rather than a reserved hole. */
  static isRegister(offset: number): boolean {
    return offset < 0x38 && offset !== 0x18;
  }

  read32(offset: number): number {
    switch (offset) {
      case REG.CAP:
        return Number(this.cap & 0xffffffffn);
      case REG.CAP + 4:
        return Number(this.cap >> 32n);
      case REG.VS:
        return this.version;
      case REG.INTMS:
      case REG.INTMC:
        return this.intMask >>> 0;
      case REG.CC:
        return this.cc >>> 0;
      case REG.CSTS:
        return this.csts >>> 0;
      case REG.AQA:
        return this.aqa >>> 0;
      case REG.ASQ:
        return Number(this.asq & 0xffffffffn);
      case REG.ASQ + 4:
        return Number(this.asq >> 32n);
      case REG.ACQ:
        return Number(this.acq & 0xffffffffn);
      case REG.ACQ + 4:
        return Number(this.acq >> 32n);
      default:
        return 0;
    }
  }

  /**
   * Write a register DW. Returns a reason when the write is ignored (read-only or reserved register),
   * undefined when it took effect.
   */
  write32(offset: number, value: number): string | undefined {
    value >>>= 0;
    switch (offset) {
      case REG.INTMS:
        this.intMask = (this.intMask | value) >>> 0;
        return undefined;
      case REG.INTMC:
        this.intMask = (this.intMask & ~value) >>> 0;
        return undefined;
      case REG.CC: {
        const previous = this.cc;
        this.cc = this.acceptConfiguration(previous, value);
        this.hooks.onControllerConfiguration(previous, this.cc);
        return undefined;
      }
      case REG.NSSR:
        return "NSSR written but CAP.NSSRS is 0 (subsystem reset not supported)";
      case REG.AQA:
        this.aqa = (value & AQA_DEFINED) >>> 0;
        return undefined;
      case REG.ASQ:
        this.asq = (this.asq & 0xffffffff00000000n) | BigInt((value & QUEUE_BASE_LOW) >>> 0);
        return undefined;
      case REG.ASQ + 4:
        this.asq = (BigInt(value) << 32n) | (this.asq & 0xffffffffn);
        return undefined;
      case REG.ACQ:
        this.acq = (this.acq & 0xffffffff00000000n) | BigInt((value & QUEUE_BASE_LOW) >>> 0);
        return undefined;
      case REG.ACQ + 4:
        this.acq = (BigInt(value) << 32n) | (this.acq & 0xffffffffn);
        return undefined;
      case REG.CAP:
      case REG.CAP + 4:
      case REG.VS:
      case REG.CSTS:
        return `register 0x${offset.toString(16)} is read-only`;
      default:
        return `offset 0x${offset.toString(16)} is a reserved register`;
    }
  }

  /** While the controller is enabled only EN, SHN and the I/O queue entry sizes may change. */
  private acceptConfiguration(previous: number, value: number): number {
    const defined = (value & CC_DEFINED) >>> 0;
    if (!cc.enabled(previous)) return defined;
    return ((previous & ~CC_CHANGEABLE_WHILE_ENABLED) | (defined & CC_CHANGEABLE_WHILE_ENABLED)) >>> 0;
  }
}
