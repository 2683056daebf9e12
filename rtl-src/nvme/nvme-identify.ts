// The Identify data structures, NVMe 1.4 §5.15.2 (PROTOCOL_FACTS §E.6/§E.7): byte offsets into the
// 4096-byte pages the controller returns for CNS 01h (controller) and CNS 00h (namespace).
import { bits, unit } from "./nvme-field.ts";

export const IDENTIFY_BYTES = 4096;

export const IdentifyControllerField = {
  vid: unit(0, 2),
  ssvid: unit(2, 2),
  /** ASCII, space padded. */
  sn: unit(4, 20),
  mn: unit(24, 40),
  fr: unit(64, 8),
  rab: unit(72, 1),
  /** IEEE OUI, least significant byte first. */
  ieee: unit(73, 3),
  cmic: unit(76, 1),
  /** Maximum data transfer: 2^MDTS minimum pages; 0 = no limit. */
  mdts: unit(77, 1),
  cntlid: unit(78, 2),
  ver: unit(80, 4),
  rtd3r: unit(84, 4),
  rtd3e: unit(88, 4),
  oaes: unit(92, 4),
  ctratt: unit(96, 4),
  oacs: unit(256, 2),
  /** OACS[1]: Format NVM supported. */
  oacsFormatNvm: bits(256, 2, 1, 1),
  acl: unit(258, 1),
  aerl: unit(259, 1),
  frmw: unit(260, 1),
  lpa: unit(261, 1),
  elpe: unit(262, 1),
  npss: unit(263, 1),
  wctemp: unit(266, 2),
  cctemp: unit(268, 2),
  sanicap: unit(328, 4),
  /** SANICAP[0], [1], [2]: Sanitize Crypto Erase, Block Erase, Overwrite supported. */
  sanicapCryptoErase: bits(328, 4, 0, 0),
  sanicapBlockErase: bits(328, 4, 1, 1),
  sanicapOverwrite: bits(328, 4, 2, 2),
  /** SANICAP[29]: No-Deallocate Inhibited (the controller deallocates after a sanitize whatever NDAS says). */
  sanicapNoDeallocateInhibited: bits(328, 4, 29, 29),
  /** Queue entry sizes: [3:0] required (minimum) log2, [7:4] maximum. */
  sqes: unit(512, 1),
  sqesMin: bits(512, 1, 3, 0),
  sqesMax: bits(512, 1, 7, 4),
  cqes: unit(513, 1),
  cqesMin: bits(513, 1, 3, 0),
  cqesMax: bits(513, 1, 7, 4),
  maxcmd: unit(514, 2),
  nn: unit(516, 4),
  oncs: unit(520, 2),
  fuses: unit(522, 2),
  fna: unit(524, 1),
  /** FNA[0]: a format applies to every namespace; FNA[1]: a secure erase does; FNA[2]: cryptographic erase supported. */
  fnaFormatAllNamespaces: bits(524, 1, 0, 0),
  fnaEraseAllNamespaces: bits(524, 1, 1, 1),
  fnaCryptoErase: bits(524, 1, 2, 2),
  vwc: unit(525, 1),
  /** Atomic write units, zero-based logical blocks. */
  awun: unit(526, 2),
  awupf: unit(528, 2),
  nvscc: unit(530, 1),
  nwpc: unit(531, 1),
  acwu: unit(532, 2),
  sgls: unit(536, 4),
  subnqn: unit(768, 256),
  /** Power state descriptor 0: max power (centiwatts), entry and exit latency (µs). */
  psd0MaxPower: unit(2048, 2),
  psd0Enlat: unit(2052, 4),
  psd0Exlat: unit(2056, 4),
} as const;

/** The LBA Format descriptors, i = 0..15. */
export function lbaFormatField(i: number) {
  if (!Number.isInteger(i) || i < 0 || i > 15) throw new RangeError(`LBA format ${i} is not 0..15`);
  const offset = 128 + 4 * i;
  return {
    whole: unit(offset, 4),
    /** Metadata bytes per block. */
    ms: bits(offset, 4, 15, 0),
    /** Data size 2^LBADS bytes. */
    lbads: bits(offset, 4, 23, 16),
    /** Relative performance, 0 best. */
    rp: bits(offset, 4, 25, 24),
  };
}

export const IdentifyNamespaceField = {
  nsze: unit(0, 8),
  ncap: unit(8, 8),
  nuse: unit(16, 8),
  nsfeat: unit(24, 1),
  /** NSFEAT[1] (NSABP): NAWUN, NAWUPF and NACWU hold this namespace's atomic units (else the controller's apply). */
  nsfeatAtomics: bits(24, 1, 1, 1),
  /** Number of LBA formats, zero-based. */
  nlbaf: unit(25, 1),
  flbas: unit(26, 1),
  /** FLBAS[3:0]: the active LBA format. */
  flbasFormat: bits(26, 1, 3, 0),
  /** FLBAS[4]: metadata at the end of each block. */
  flbasExtended: bits(26, 1, 4, 4),
  mc: unit(27, 1),
  dpc: unit(28, 1),
  dps: unit(29, 1),
  nmic: unit(30, 1),
  rescap: unit(31, 1),
  fpi: unit(32, 1),
  dlfeat: unit(33, 1),
  /** DLFEAT[2:0]: what a deallocated block reads as (0 not reported, 1 zeroes, 2 FFh bytes). */
  dlfeatReadValue: bits(33, 1, 2, 0),
  /** Namespace atomic units, zero-based blocks (valid with NSFEAT.NSABP). */
  nawun: unit(34, 2),
  nawupf: unit(36, 2),
  nacwu: unit(38, 2),
  nabsn: unit(40, 2),
  nabo: unit(42, 2),
  nabspf: unit(44, 2),
  noiob: unit(46, 2),
  nvmcap: unit(48, 16),
  npwg: unit(64, 2),
  npwa: unit(66, 2),
  npdg: unit(68, 2),
  npda: unit(70, 2),
  nows: unit(72, 2),
  anagrpid: unit(92, 4),
  nsattr: unit(99, 1),
  nvmsetid: unit(100, 2),
  endgid: unit(102, 2),
  nguid: unit(104, 16),
  eui64: unit(120, 8),
} as const;
