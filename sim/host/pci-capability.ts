// Configuration-space steps both PCI enumerators take on a function (the single-SSD one in
// pci-enumeration.ts, the one through switches in pci-topology.ts): walk the capability list (PROTOCOL_FACTS
// C.5) and program Device Control's Max_Payload_Size / Max_Read_Request_Size (C.6). `fail` makes the error
// each enumerator throws (pci-topology throws its TopologyEnumerationError).

type Read32 = (offset: number) => Promise<number>;
type MakeError = (message: string) => Error;

const COMMAND = 0x04;
const CAP_PTR = 0x34;
const STATUS_CAPABILITIES_LIST = 1 << 4;
const DEVCTL = 0x08;
/** A list longer than this loops: 256 bytes of header-space capabilities hold at most 48 of them. */
const MAX_CAPABILITIES = 48;

const plainError: MakeError = (message) => new Error(message);

/** Walk the capability list; returns the offset of capability `id` or null. */
export async function findCapability(read32: Read32, id: number, fail: MakeError = plainError): Promise<number | null> {
  const status = (await read32(COMMAND)) >>> 16;
  if ((status & STATUS_CAPABILITIES_LIST) === 0) return null;
  let pointer = (await read32(CAP_PTR)) & 0xfc;
  for (let hops = 0; pointer !== 0; hops++) {
    if (hops > MAX_CAPABILITIES) throw fail(`capability list does not terminate (more than ${MAX_CAPABILITIES} entries)`);
    const header = await read32(pointer);
    if ((header & 0xff) === id) return pointer;
    pointer = (header >>> 8) & 0xfc;
  }
  return null;
}

/** Device Control at `capOffset` (the PCI Express capability): Max_Payload_Size always, Max_Read_Request_Size when given. */
export async function setDeviceControlSizes(
  read32: Read32,
  write16: (offset: number, value: number) => Promise<unknown>,
  capOffset: number,
  mps: number,
  mrrs: number | undefined,
  fail: MakeError = plainError,
): Promise<void> {
  const devCtl = (await read32(capOffset + DEVCTL)) & 0xffff;
  let value = (devCtl & ~(7 << 5)) | (sizeCode(mps, "Max_Payload_Size", fail) << 5);
  if (mrrs !== undefined) value = (value & ~(7 << 12)) | (sizeCode(mrrs, "Max_Read_Request_Size", fail) << 12);
  await write16(capOffset + DEVCTL, value);
}

/** PCIe size encoding 0 = 128 B … 5 = 4096 B. */
function sizeCode(bytes: number, what: string, fail: MakeError): number {
  const code = Math.log2(bytes / 128);
  if (!Number.isInteger(code) || code < 0 || code > 5) throw fail(`${what} ${bytes} is not a power of two from 128 to 4096`);
  return code;
}
