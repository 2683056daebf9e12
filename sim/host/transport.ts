// The narrow waist between the reference NVMe host driver and a device it drives. Two implementations
// exist: our SSD model reached over TLPs through the link model (model-transport.ts), and QEMU's
// emulated NVMe controller reached through QEMU's qtest protocol (qemu-qtest.ts). Everything is async
// because the QEMU side is a pipe to another process; the model side simply resolves at once.

/** Outcome of one configuration request, mirroring PCIe completion status (PCIe Base 2.1 §2.2.9). */
export type ConfigStatus = "SC" | "UR" | "CRS" | "CA";

export interface ConfigReadResult {
  status: ConfigStatus;
  /** The `size` bytes read, little-endian; meaningless unless status is "SC". */
  value: number;
}

export type AccessSize = 1 | 2 | 4;

/** Type-0 configuration access to function 0 of the device on the far side of the root port. */
export interface EndpointConfigAccess {
  /** 256 for the PC's 0xCF8/0xCFC mechanism, 4096 when extended configuration space is reachable. */
  readonly configSpaceBytes: number;
  configRead(offset: number, size: AccessSize): Promise<ConfigReadResult>;
  configWrite(offset: number, size: AccessSize, value: number): Promise<ConfigStatus>;
}

/**
 * The root port's own configuration space (7-series `cfg_mgmt`). Only the model transport has one:
 * on QEMU's `pc` machine the device sits directly on the host bridge's bus 0, so there is no bridge
 * to configure and the driver skips these steps.
 */
export interface RootPortConfigAccess {
  read32(offset: number): Promise<number>;
  write32(offset: number, value: number, byteEnables?: number): Promise<void>;
  /** Bus number the endpoint is reached on once the root port's secondary bus is programmed. */
  readonly secondaryBus: number;
}

/** Memory-mapped access to the endpoint's BARs, by bus address (the driver assigns BAR0 itself). */
export interface MmioAccess {
  mmioRead32(address: bigint): Promise<number>;
  mmioWrite32(address: bigint, value: number): Promise<void>;
  mmioRead64(address: bigint): Promise<bigint>;
  mmioWrite64(address: bigint, value: bigint): Promise<void>;
}

/** Host RAM as the device sees it through DMA: byte reads and writes at bus addresses. */
export interface HostMemoryAccess {
  /** First and one-past-last bus address the host may hand to the device. */
  readonly memoryWindow: { start: bigint; end: bigint };
  readMemory(address: bigint, length: number): Promise<Uint8Array>;
  writeMemory(address: bigint, data: Uint8Array): Promise<void>;
}

export interface NvmeTransport extends EndpointConfigAccess, MmioAccess, HostMemoryAccess {
  /** Short label used in test titles and reports, e.g. "qemu" or "model". */
  readonly name: string;
  readonly rootPort: RootPortConfigAccess | null;
  /** Device time in nanoseconds: simulated time on the model, wall-clock time on QEMU. */
  nowNs(): number;
  /** Let at least `ns` nanoseconds of device time pass (the model simulates them; QEMU sleeps). */
  wait(ns: number): Promise<void>;
  close(): Promise<void>;
}
