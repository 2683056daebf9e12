// Log pages, NVMe 1.4 §5.14.1 (PROTOCOL_FACTS §E.4): the log identifiers, and the SMART / Health
// Information log (LID 02h, NVMe 1.4 Figure 194) as byte offsets into the 512-byte page the
// controller returns. The counters are 16-byte (128-bit) little-endian units; Data Units Read and
// Written count thousands of 512-byte units, rounded up (a value of 1 means 1 to 1000 units).
import { bits, unit } from "./nvme-field.ts";

/** Log Page Identifiers (Get Log Page CDW10 LID). */
export const LogPageId = {
  errorInformation: 0x01,
  smartHealth: 0x02,
  firmwareSlot: 0x03,
} as const;

export const SMART_LOG_BYTES = 512;

export const SmartLogField = {
  /** Bits set for each condition that holds now (CriticalWarningBit); 0 = healthy. */
  criticalWarning: unit(0, 1),
  /** Kelvin. */
  compositeTemperature: unit(1, 2),
  /** Remaining spare capacity, percent (0-100). */
  availableSpare: unit(3, 1),
  /** The critical warning's spare bit is set when availableSpare falls below this, percent. */
  availableSpareThreshold: unit(4, 1),
  /** Vendor estimate of the life used, percent; may exceed 100 (255 at most). */
  percentageUsed: unit(5, 1),
  enduranceGroupCriticalWarning: unit(6, 1),
  /** Thousands of 512-byte units read / written by the host, rounded up. */
  dataUnitsRead: unit(32, 16),
  dataUnitsWritten: unit(48, 16),
  hostReadCommands: unit(64, 16),
  hostWriteCommands: unit(80, 16),
  /** Minutes busy with I/O commands. */
  controllerBusyTime: unit(96, 16),
  powerCycles: unit(112, 16),
  powerOnHours: unit(128, 16),
  unsafeShutdowns: unit(144, 16),
  /** Media and Data Integrity Errors: unrecovered data integrity errors (ECC, CRC, LBA tag). */
  mediaErrors: unit(160, 16),
  /** Number of Error Information Log Entries over the controller's life. */
  errorLogEntries: unit(176, 16),
  /** Minutes at or above the warning / critical composite temperature threshold. */
  warningTemperatureTime: unit(192, 4),
  criticalTemperatureTime: unit(196, 4),
  thermalTransitions1: unit(216, 4),
  thermalTransitions2: unit(220, 4),
  thermalTime1: unit(224, 4),
  thermalTime2: unit(228, 4),
} as const;

/** Temperature Sensor 1..8, Kelvin (0 = not implemented). */
export function temperatureSensorField(sensor: number) {
  if (!Number.isInteger(sensor) || sensor < 1 || sensor > 8) throw new RangeError(`temperature sensor ${sensor} is not 1..8`);
  return unit(200 + 2 * (sensor - 1), 2);
}

/** The bits of Critical Warning (byte 0). */
export const CriticalWarningBit = {
  /** Available spare below its threshold. */
  spareBelowThreshold: bits(0, 1, 0, 0),
  /** A temperature above an over-temperature or below an under-temperature threshold. */
  temperature: bits(0, 1, 1, 1),
  /** Reliability degraded by media errors or an internal error. */
  reliabilityDegraded: bits(0, 1, 2, 2),
  /** Media placed in read-only mode. */
  readOnly: bits(0, 1, 3, 3),
  /** Volatile memory backup device failed. */
  volatileBackupFailed: bits(0, 1, 4, 4),
  /** Persistent Memory Region read-only (1.4). */
  persistentMemoryReadOnly: bits(0, 1, 5, 5),
} as const;
