// The admin command opcodes the SSD model implements (NVMe 1.4 Figure 139 and 140), in a file of
// their own so the admin command set and the sanitize rules (which list the commands allowed during a
// sanitize) share them without importing each other.

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
  /** Not implemented by the model; listed because a sanitize allows it. */
  keepAlive: 0x18,
  /** Not implemented by the model; listed because a sanitize allows them. */
  nvmeMiSend: 0x1d,
  nvmeMiReceive: 0x1e,
  formatNvm: 0x80,
  sanitize: 0x84,
} as const;
