import { describe, expect, it } from "vitest";
import { NvmeDriver } from "../../../sim/host/driver.ts";
import { ModelTransport } from "../../../sim/host/model-transport.ts";

describe("reference driver on the SSD model", () => {
  it("retries the ID probe while the SSD answers CRS", async () => {
    const t = await ModelTransport.start({ ssd: { crsCycles: 20_000 } });
    const d = new NvmeDriver(t, { pci: { crsRetryIntervalNs: 10_000 }, commandTimeoutNs: 20e6 });
    const pci = await d.enumerate();
    expect(pci.crsRetries).toBeGreaterThan(0);
    expect(t.ssd.counters.crsCompletions).toBe(pci.crsRetries);
    await t.close();
  });

  it("programs both ends of the link: bus numbers, memory window, Max_Payload_Size", async () => {
    const t = await ModelTransport.start();
    const d = new NvmeDriver(t, { commandTimeoutNs: 20e6 });
    const pci = await d.enumerate();
    expect(pci.crsRetries).toBe(0);
    expect(pci.pcie?.maxPayload).toBe(512);
    expect(pci.rootPort).toEqual({ pcieCapOffset: 0x60, maxPayload: 512 });
    // Root port: secondary/subordinate bus 1, memory window covering BAR0, MPS 512 in Device Control.
    expect((await t.rootPort.read32(0x18)) & 0xffffff).toBe(0x010100);
    expect(await t.rootPort.read32(0x20)).toBe(0xe000_e000);
    expect(((await t.rootPort.read32(0x68)) >>> 5) & 7).toBe(2);
    expect(t.ssd.config.maxPayloadBytes).toBe(512);
    await t.close();
  });

  it("brings the controller up, moves data through a PRP list and shuts down", async () => {
    const t = await ModelTransport.start();
    const d = new NvmeDriver(t, { commandTimeoutNs: 20e6, defaultShutdownTimeoutNs: 50e6 });
    const { namespace, io } = await d.bringUp();
    const ns = { nsid: 1, lbaBytes: namespace.lbaBytes };
    const data = new Uint8Array(20 * 512).map((_, i) => (i * 13 + 5) & 0xff);
    await d.writeBlocks(io, ns, 77n, data, { offset: 0x40, scattered: true });
    expect(Buffer.from(await d.readBlocks(io, ns, 77n, 20, { offset: 0xffc }))).toEqual(Buffer.from(data));
    await expect(d.readBlocks(io, ns, 0n, d.maxTransferBytes / 512 + 1)).rejects.toThrow(/exceeds the controller's MDTS/);
    await d.deleteIoQueuePair(io);
    expect((await d.shutdown()).shutdownStatus).toBe(2);
    expect(t.unexpectedTlps).toEqual([]);
    await t.close();
  });
});
