// Command opcodes, NVMe 1.4 Figure 139 (admin) and Figure 346 (NVM command set): the one table the
// hardware, the reference host and the SSD model all send and decode. Plain data, no DSL.

export const AdminOpcode = {
  deleteIoSq: 0x00,
  createIoSq: 0x01,
  getLogPage: 0x02,
  deleteIoCq: 0x04,
  createIoCq: 0x05,
  identify: 0x06,
  abort: 0x08,
  setFeatures: 0x09,
  getFeatures: 0x0a,
  asyncEventRequest: 0x0c,
  keepAlive: 0x18,
  nvmeMiSend: 0x1d,
  nvmeMiReceive: 0x1e,
  formatNvm: 0x80,
  sanitize: 0x84,
} as const;

export const NvmOpcode = {
  flush: 0x00,
  write: 0x01,
  read: 0x02,
  writeZeroes: 0x08,
  datasetManagement: 0x09,
} as const;
