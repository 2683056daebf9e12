// End-to-end CRC (the TLP Digest, PCIe Base 2.1 §2.7.1). The polynomial, seed, bit order and final
// complement are those of the LCRC, which match the Ethernet FCS: bits enter LSB first and the remainder's
// x^31 term lands in bit 0 of digest byte 0. So the digest is the reflected CRC-32 (node's zlib.crc32)
// stored little-endian. Variant bits (Type[0] and EP) are counted as 1 so a switch may change them in flight.

import { crc32 } from "node:zlib";

/** Digest over `tlp[0 .. end)` (header + payload, no digest), as the 4 wire bytes that follow the payload. */
export function computeEcrc(tlp: Uint8Array, end: number = tlp.length): Uint8Array {
  if (end < 4) throw new RangeError(`ECRC needs at least the TLP's first DW (got ${end} bytes)`);
  const covered = Buffer.from(tlp.buffer, tlp.byteOffset, end);
  const dw0 = Buffer.from([covered[0] | 0x01, covered[1], covered[2] | 0x40, covered[3]]);
  const crc = crc32(covered.subarray(4), crc32(dw0));
  return new Uint8Array([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24]);
}
