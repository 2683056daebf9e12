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
  sanitizeStatus: 0x81,
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

/**
 * The Error Information log (LID 01h, NVMe 1.4 Figure 193): an array of 64-byte entries, newest
 * first; Identify Controller ELPE + 1 entries at most. An entry with Error Count 0 is unused.
 */
export const ERROR_INFORMATION_ENTRY_BYTES = 64;
export const ErrorInformationField = {
  /** A unique, rising number for each error over the controller's life (0 = entry unused). */
  errorCount: unit(0, 8),
  /** The submission queue and command identifier of the command that failed (FFFFh when none applies). */
  sqid: unit(8, 2),
  cid: unit(10, 2),
  /** The completion's Status Field, [15:1] = {DNR, M, CRD, SCT, SC}, [0] = the phase tag it was posted with. */
  statusField: unit(12, 2),
  /** Byte [7:0] and bit [10:8] of the command field in error (FFFFh when none applies). */
  parameterErrorLocation: unit(14, 2),
  /** The first LBA in error. */
  lba: unit(16, 8),
  nsid: unit(24, 4),
  vendorSpecificLogPage: unit(28, 1),
  transportType: unit(29, 1),
  commandSpecific: unit(32, 8),
  transportSpecific: unit(40, 2),
} as const;

/** The Sanitize Status log (LID 81h, NVMe 1.4 Figure 205/206): progress and result of the last sanitize. */
export const SANITIZE_STATUS_LOG_BYTES = 512;
export const SanitizeStatusField = {
  /** Sanitize Progress: the fraction done of the sanitize in progress, in 1/65536ths (FFFFh when none runs). */
  sprog: unit(0, 2),
  sstat: unit(2, 2),
  /** SSTAT[2:0]: SanitizeState. */
  sstatState: bits(2, 2, 2, 0),
  /** SSTAT[7:3]: overwrite passes completed. */
  sstatOverwritePasses: bits(2, 2, 7, 3),
  /** SSTAT[8]: Global Data Erased (no user data written since the last sanitize or since manufacture). */
  sstatGlobalDataErased: bits(2, 2, 8, 8),
  /** The CDW10 of the Sanitize command that started the last sanitize. */
  scdw10: unit(4, 4),
  /** Estimated seconds for each action (FFFFFFFFh = no estimate). */
  estimatedOverwrite: unit(8, 4),
  estimatedBlockErase: unit(12, 4),
  estimatedCryptoErase: unit(16, 4),
  estimatedOverwriteNoDeallocate: unit(20, 4),
  estimatedBlockEraseNoDeallocate: unit(24, 4),
  estimatedCryptoEraseNoDeallocate: unit(28, 4),
} as const;

/** SSTAT[2:0] values. */
export const SanitizeState = {
  neverSanitized: 0,
  completed: 1,
  inProgress: 2,
  failed: 3,
  /** Completed, but No-Deallocate After Sanitize was asked and not honoured: every block was deallocated (1.4; No-Deallocate Inhibited). */
  completedNoDeallocate: 4,
} as const;
