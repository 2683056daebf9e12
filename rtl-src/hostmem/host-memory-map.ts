// The virtual host-memory map: every address the SSD is told to read or write (queues, Identify
// buffers, the log pages (SMART / Health, Error Information, Sanitize Status), PRP lists and data
// windows) and the window the SSD's BAR is placed in. There is no host RAM: the controller answers
// each SSD access by decoding these addresses. This file is the one place the map is defined; the
// RTL and the tests both read it.
// Everything lies below 4 GiB, so every TLP in either direction has a 3DW header (PROTOCOL_FACTS
// §0 #9).
//
// Plain data, no DSL: regions are naturally aligned powers of two, so a decode is a compare of the
// address bits above the region's size.

export interface HostMemoryRegion {
  /** What the SSD finds there. */
  readonly what: string;
  readonly base: number;
  /** A power of two; `base` is a multiple of it. */
  readonly bytes: number;
}

function region(what: string, base: number, bytes: number): HostMemoryRegion {
  if ((bytes & (bytes - 1)) !== 0 || base % bytes !== 0 || base + bytes > 2 ** 32) {
    throw new RangeError(`host memory region ${what}: 0x${base.toString(16)} + 0x${bytes.toString(16)} is not a naturally aligned power of two below 4 GiB`);
  }
  return { what, base, bytes };
}

/** The regions the SSD reads and writes; none overlaps another or the BAR window. */
export const HostMemoryMap = {
  /** Admin submission queue: entries built on the fly from the pending admin command. */
  adminSq: region("admin submission queue", 0x1000_0000, 0x1000),
  /** Admin completion queue: entries parsed as the SSD writes them. */
  adminCq: region("admin completion queue", 0x1000_1000, 0x1000),
  /** Where Identify Controller data is written: parsed on the fly, nothing stored but the fields kept. */
  identifyController: region("Identify Controller data", 0x1000_2000, 0x1000),
  /** Where Identify Namespace data is written, parsed the same way. */
  identifyNamespace: region("Identify Namespace data", 0x1000_3000, 0x1000),
  /** Where the SMART / Health log page (512 bytes of Get Log Page LID 02h) is written, parsed the same way. */
  smartLog: region("SMART / Health log page", 0x1000_4000, 0x1000),
  /** Where the newest Error Information log entries (Get Log Page LID 01h) are written, parsed the same way. */
  errorLog: region("Error Information log entries", 0x1000_5000, 0x1000),
  /** Where the Sanitize Status log (Get Log Page LID 81h) is written while a sanitize is polled, parsed the same way. */
  sanitizeStatusLog: region("Sanitize Status log page", 0x1000_6000, 0x1000),
  /** I/O submission queue 1 (up to 1024 entries of 64 B). */
  ioSq: region("I/O submission queue 1", 0x1001_0000, 0x1_0000),
  /** I/O completion queue 1 (up to 1024 entries of 16 B). */
  ioCq: region("I/O completion queue 1", 0x1002_0000, 0x4000),
  /** PRP list pages, one 4 KiB page per command slot (issue "controller part 2"). */
  prpLists: region("PRP list pages", 0x1100_0000, 0x10_0000),
  /** Data windows, one per command slot (issue "controller part 2"). */
  dataWindows: region("data windows", 0x2000_0000, 0x2000_0000),
} as const satisfies Record<string, HostMemoryRegion>;

export type HostMemoryRegionName = keyof typeof HostMemoryMap;

/** The root port's memory window (bridge base/limit), where the SSD's BAR0 is assigned. */
export const BAR_WINDOW = region("root port memory window (SSD BAR0)", 0xe000_0000, 0x10_0000);

/** Most SSDs behind a switch the BAR window is sized for. */
export const MAX_WINDOW_SSDS = 4;

/**
 * The root port's memory window for `ssds` SSDs behind a switch: a bridge window is 1 MiB-granular,
 * so each SSD's BAR0 takes a MiB of it (pcie-topology-enumerator.ts); the window at BAR_WINDOW's
 * base, a power of two (1, 2 or 4 MiB), still far below 4 GiB and clear of every region above.
 */
export function barWindowFor(ssds: number): HostMemoryRegion {
  if (!Number.isInteger(ssds) || ssds < 1 || ssds > MAX_WINDOW_SSDS) throw new RangeError(`barWindowFor: ssds ${ssds} is not 1..${MAX_WINDOW_SSDS}`);
  const bytes = BAR_WINDOW.bytes << Math.ceil(Math.log2(ssds));
  return region(`root port memory window (${ssds} SSD BAR0s behind a switch)`, BAR_WINDOW.base, bytes);
}

/** Which region holds `address`, or undefined for an unmapped address. */
export function regionOf(address: number): HostMemoryRegionName | undefined {
  for (const [name, r] of Object.entries(HostMemoryMap)) {
    if (address >= r.base && address < r.base + r.bytes) return name as HostMemoryRegionName;
  }
  return undefined;
}
