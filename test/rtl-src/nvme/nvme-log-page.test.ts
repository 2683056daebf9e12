// The log page table against NVMe 1.4 §5.14.1 (Figure 194, SMART / Health Information), and the SSD
// model's page builder placing each value where the specification does (offsets written out here
// by hand, not taken from the table).
import { describe, expect, it } from "vitest";
import {
  CriticalWarningBit,
  ERROR_INFORMATION_ENTRY_BYTES,
  ErrorInformationField,
  LogPageId,
  SANITIZE_STATUS_LOG_BYTES,
  SMART_LOG_BYTES,
  SmartLogField as S,
  SanitizeState,
  SanitizeStatusField,
  temperatureSensorField,
} from "../../../rtl-src/nvme/nvme-log-page.ts";
import { IDLE_SMART_HEALTH, smartHealthLog } from "../../../sim/nvme/admin.ts";
import { overlaps, where } from "../../../sim/testbench/nvme-field-checks.ts";

describe("SMART / Health log table", () => {
  it("puts the fields where NVMe 1.4 Figure 194 does", () => {
    expect(SMART_LOG_BYTES).toBe(512);
    expect(LogPageId).toEqual({ errorInformation: 0x01, smartHealth: 0x02, firmwareSlot: 0x03, sanitizeStatus: 0x81 });
    const at = Object.fromEntries(Object.entries(S).map(([name, f]) => [name, where(f)]));
    expect(at).toEqual({
      criticalWarning: "byte 0 size 1",
      compositeTemperature: "byte 1 size 2",
      availableSpare: "byte 3 size 1",
      availableSpareThreshold: "byte 4 size 1",
      percentageUsed: "byte 5 size 1",
      enduranceGroupCriticalWarning: "byte 6 size 1",
      dataUnitsRead: "byte 32 size 16",
      dataUnitsWritten: "byte 48 size 16",
      hostReadCommands: "byte 64 size 16",
      hostWriteCommands: "byte 80 size 16",
      controllerBusyTime: "byte 96 size 16",
      powerCycles: "byte 112 size 16",
      powerOnHours: "byte 128 size 16",
      unsafeShutdowns: "byte 144 size 16",
      mediaErrors: "byte 160 size 16",
      errorLogEntries: "byte 176 size 16",
      warningTemperatureTime: "byte 192 size 4",
      criticalTemperatureTime: "byte 196 size 4",
      thermalTransitions1: "byte 216 size 4",
      thermalTransitions2: "byte 220 size 4",
      thermalTime1: "byte 224 size 4",
      thermalTime2: "byte 228 size 4",
    });
    expect([1, 2, 8].map((i) => where(temperatureSensorField(i)))).toEqual(["byte 200 size 2", "byte 202 size 2", "byte 214 size 2"]);
    expect(() => temperatureSensorField(0)).toThrow(/temperature sensor 0/);
    expect(Object.values(CriticalWarningBit).map(where)).toEqual(["byte 0 bits 0:0", "byte 0 bits 1:1", "byte 0 bits 2:2", "byte 0 bits 3:3", "byte 0 bits 4:4", "byte 0 bits 5:5"]);
    expect(overlaps(S)).toEqual([]);
    for (const f of Object.values(S)) expect(f.offset + f.size).toBeLessThanOrEqual(SMART_LOG_BYTES);
  });

  it("the model's page builder writes each value at its offset, little-endian, 128-bit counters whole", () => {
    const page = smartHealthLog({
      ...IDLE_SMART_HEALTH,
      criticalWarning: 0x05,
      compositeTemperature: 0x0151,
      availableSpare: 97,
      availableSpareThreshold: 11,
      percentageUsed: 3,
      dataUnitsRead: (7n << 64n) | 0x0102_0304_0506_0708n,
      hostWriteCommands: 0x99n,
      powerOnHours: 0x1234n,
      unsafeShutdowns: 0x42n,
      mediaErrors: 0xabcdn,
      errorLogEntries: 0x5n,
    });
    expect(page.length).toBe(512);
    expect(Array.from(page.subarray(0, 6))).toEqual([0x05, 0x51, 0x01, 97, 11, 3]);
    expect(Array.from(page.subarray(32, 48))).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 7, 0, 0, 0, 0, 0, 0, 0]);
    expect([page[80], page[128], page[129], page[144], page[160], page[161], page[176]]).toEqual([0x99, 0x34, 0x12, 0x42, 0xcd, 0xab, 0x05]);
    // Nothing else is written.
    const set = Array.from(page.keys()).filter((i) => page[i] !== 0);
    expect(set).toEqual([0, 1, 2, 3, 4, 5, 32, 33, 34, 35, 36, 37, 38, 39, 40, 80, 128, 129, 144, 160, 161, 176]);
  });
});

describe("Error Information and Sanitize Status log tables", () => {
  it("put the fields where NVMe 1.4 Figures 193 and 206 do", () => {
    expect(ERROR_INFORMATION_ENTRY_BYTES).toBe(64);
    expect(Object.fromEntries(Object.entries(ErrorInformationField).map(([name, f]) => [name, where(f)]))).toEqual({
      errorCount: "byte 0 size 8",
      sqid: "byte 8 size 2",
      cid: "byte 10 size 2",
      statusField: "byte 12 size 2",
      parameterErrorLocation: "byte 14 size 2",
      lba: "byte 16 size 8",
      nsid: "byte 24 size 4",
      vendorSpecificLogPage: "byte 28 size 1",
      transportType: "byte 29 size 1",
      commandSpecific: "byte 32 size 8",
      transportSpecific: "byte 40 size 2",
    });
    expect(SANITIZE_STATUS_LOG_BYTES).toBe(512);
    expect(Object.fromEntries(Object.entries(SanitizeStatusField).map(([name, f]) => [name, where(f)]))).toEqual({
      sprog: "byte 0 size 2",
      sstat: "byte 2 size 2",
      sstatState: "byte 2 bits 2:0",
      sstatOverwritePasses: "byte 2 bits 7:3",
      sstatGlobalDataErased: "byte 2 bits 8:8",
      scdw10: "byte 4 size 4",
      estimatedOverwrite: "byte 8 size 4",
      estimatedBlockErase: "byte 12 size 4",
      estimatedCryptoErase: "byte 16 size 4",
      estimatedOverwriteNoDeallocate: "byte 20 size 4",
      estimatedBlockEraseNoDeallocate: "byte 24 size 4",
      estimatedCryptoEraseNoDeallocate: "byte 28 size 4",
    });
    expect(SanitizeState).toEqual({ neverSanitized: 0, completed: 1, inProgress: 2, failed: 3, completedNoDeallocate: 4 });
  });
});
