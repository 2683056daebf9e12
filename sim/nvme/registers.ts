// The NVMe controller registers at BAR0 offsets 0x00..0x3F (facts digest §D): CAP, VS, INTMS/INTMC, CC,
// CSTS, AQA, ASQ, ACQ. This file decodes accesses and keeps the values; what a CC change *does*
// (enable/ready handshake, reset, shutdown) is the controller's business, reported through the hooks.

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

export const REG = {
  CAP: 0x00,
  VS: 0x08,
  INTMS: 0x0c,
  INTMC: 0x10,
  CC: 0x14,
  CSTS: 0x1c,
  NSSR: 0x20,
  AQA: 0x24,
  ASQ: 0x28,
  ACQ: 0x30,
} as const;

export const CSTS_RDY = 1 << 0;
export const CSTS_CFS = 1 << 1;
export const CSTS_SHST_SHIFT = 2;

export const cc = {
  enabled: (v: number) => (v & 1) === 1,
  css: (v: number) => (v >>> 4) & 7,
  mps: (v: number) => (v >>> 7) & 0xf,
  ams: (v: number) => (v >>> 11) & 7,
  shn: (v: number) => (v >>> 14) & 3,
  iosqes: (v: number) => (v >>> 16) & 0xf,
  iocqes: (v: number) => (v >>> 20) & 0xf,
};

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
    this.cap =
      BigInt(fields.mqes & 0xffff) |
      (1n << 16n) | // CQR: queues must be physically contiguous
      (BigInt(fields.timeout & 0xff) << 24n) |
      (BigInt(fields.dstrd & 0xf) << 32n) |
      (1n << 37n) | // CSS: NVM command set
      (BigInt(fields.mpsmin & 0xf) << 48n) |
      (BigInt(fields.mpsmax & 0xf) << 52n);
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
    return (this.csts >>> CSTS_SHST_SHIFT) & 3;
  }
  setReady(on: boolean): void {
    this.csts = on ? this.csts | CSTS_RDY : this.csts & ~CSTS_RDY;
  }
  setFatal(): void {
    this.csts |= CSTS_CFS;
  }
  setShutdownStatus(shst: number): void {
    this.csts = (this.csts & ~(3 << CSTS_SHST_SHIFT)) | ((shst & 3) << CSTS_SHST_SHIFT);
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
        this.aqa = value & 0x0fff0fff;
        return undefined;
      case REG.ASQ:
        this.asq = (this.asq & 0xffffffff00000000n) | BigInt(value & 0xfffff000);
        return undefined;
      case REG.ASQ + 4:
        this.asq = (BigInt(value) << 32n) | (this.asq & 0xffffffffn);
        return undefined;
      case REG.ACQ:
        this.acq = (this.acq & 0xffffffff00000000n) | BigInt(value & 0xfffff000);
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
    const defined = value & 0x00fffff1;
    if (!cc.enabled(previous)) return defined;
    const changeable = 0x00ffc001;
    return ((previous & ~changeable) | (defined & changeable)) >>> 0;
  }
}
