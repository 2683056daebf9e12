import { describe, expect, it } from "vitest";
import { defaultSsdOptions, resolveSsdOptions } from "../../../sim/nvme/options.ts";

describe("SSD model options", () => {
  it("default to what QEMU 7.2 reports: Format NVM without crypto erase, no Sanitize, ELPE 0, formats 512 and 4096", () => {
    const o = resolveSsdOptions();
    expect(o).toMatchObject({
      formatNvm: true,
      formatAppliesToAllNamespaces: false,
      secureEraseAppliesToAllNamespaces: false,
      formatCryptoErase: false,
      sanitizeBlockErase: false,
      sanitizeOverwrite: false,
      sanitizeCryptoErase: false,
      sanitizeNoDeallocateInhibited: false,
      elpe: 0,
      lbaFormats: [512, 4096],
    });
    expect(defaultSsdOptions.timing).toBe("fastSsd");
  });

  it("a timing preset brings its erase support; an explicit option wins", () => {
    expect(resolveSsdOptions({ timing: "consumerSsd" })).toMatchObject({ formatCryptoErase: true, sanitizeBlockErase: true, sanitizeOverwrite: true, sanitizeCryptoErase: true });
    expect(resolveSsdOptions({ timing: "consumerSsd", sanitizeCryptoErase: false, formatNvm: false })).toMatchObject({ sanitizeCryptoErase: false, sanitizeBlockErase: true, formatNvm: false });
    expect(resolveSsdOptions({ timing: "instant", sanitizeOverwrite: true })).toMatchObject({ sanitizeOverwrite: true, sanitizeBlockErase: false });
  });

  it("refuses bad erase options, naming them", () => {
    expect(() => resolveSsdOptions({ elpe: 300 })).toThrow(/NvmeSsd option elpe 300 is not 0\.\.255/);
    expect(() => resolveSsdOptions({ lbaFormats: [] })).toThrow(/lbaFormats \[\] is not a list of 1\.\.16 formats/);
    expect(() => resolveSsdOptions({ lbaFormats: [512, 1024 as 512] })).toThrow(/lbaFormats\[1\] 1024 is not 512 or 4096/);
    expect(() => resolveSsdOptions({ lbaFormats: [4096] })).toThrow(/namespaces\[0\]\.lbaSize 512 is not one of lbaFormats \[4096\]/);
    expect(() => resolveSsdOptions({ sanitizeOverwrite: 1 as unknown as boolean })).toThrow(/sanitizeOverwrite 1 is not true or false/);
  });
});
