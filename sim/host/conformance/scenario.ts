// What a conformance scenario is: a named procedure run against a freshly reset controller that
// reports its outcome as plain data (statuses as words, data as equal/not equal, register fields),
// plus the outcome the NVMe and PCIe specifications require for the configured device. The same
// outcome record from two transports can then be compared field by field.

import { randomBytes } from "../../random.ts";
import { type CompletionEntry, describeStatus } from "../completion.ts";
import type { IoQueuePair, NvmeDriver } from "../driver.ts";
import type { NvmeTransport } from "../transport.ts";

export type OutcomeValue = string | number | boolean | null | OutcomeValue[] | { [key: string]: OutcomeValue };
export type Outcome = { [key: string]: OutcomeValue };

/** The device configuration both transports are started with (see conformance/devices.ts). */
export interface DeviceConfig {
  vendorId: number;
  deviceId: number;
  serial: string;
  capacityBlocks: number;
  /** Identify NN: NSIDs 2..NN are inactive, above NN invalid. */
  maxNamespaces: number;
  lbaBytes: number;
  mdts: number;
  maxIoQueuePairs: number;
  /** CAP.MQES + 1. */
  maxQueueEntries: number;
}

export interface ConformanceContext {
  transport: NvmeTransport;
  driver: NvmeDriver;
  config: DeviceConfig;
  /** NSID 1 as identified during the reset. */
  ns: { nsid: number; lbaBytes: number; nsze: bigint };
  /** I/O queue pair 1, created during the reset. */
  io: IoQueuePair;
  /** Page-aligned host memory that is given back when the scenario ends (queues, lists, buffers). */
  scratch(bytes: number): bigint;
}

export type ScenarioGroup = "bring-up" | "identify" | "features" | "queues" | "io" | "errors" | "data-management" | "erase" | "shutdown";

export interface Scenario {
  id: string;
  group: ScenarioGroup;
  title: string;
  expected(config: DeviceConfig): Outcome;
  run(ctx: ConformanceContext): Promise<Outcome>;
}

/** A completion's status as compared across transports, e.g. "commandSpecific/invalidQueueSize (0x02) DNR". */
export function status(c: CompletionEntry): string {
  return describeStatus(c.status);
}

export const SUCCESS = "generic/success (0x00)";

/** Deterministic bytes, different for each seed, so a misplaced block never matches by accident. */
export function pattern(seed: number, length: number): Uint8Array {
  return randomBytes(length, seed);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

export function allZero(a: Uint8Array): boolean {
  return a.every((b) => b === 0);
}

export function hex(value: number | bigint, digits = 0): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}
