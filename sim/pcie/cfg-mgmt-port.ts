// The cfg_mgmt handshake onto the root port's own config space (facts digest §A.7): the user holds dwaddr,
// di, byte_en and rd_en or wr_en until rd_wr_done pulses for one cycle (with do valid for a read). The port
// ignores the request lines in the done cycle, because a requester that reacts to done still has its
// enable high in that cycle.

import type { RootPortConfigSpace } from "./rp-config-space.ts";
import type { RootPortPorts } from "./root-port-ports.ts";

export class CfgMgmtPort {
  /** Accesses refused because rd_en and wr_en were high together. */
  conflicts = 0;
  reads = 0;
  writes = 0;
  private countdown = -1;
  private isWrite = false;
  private dwAddress = 0;
  private data = 0;
  private byteEnable = 0;
  private readonlyFlag = false;
  private rw1cAsRw = false;
  private justDone = false;

  constructor(
    private readonly space: RootPortConfigSpace,
    private readonly latencyCycles: number,
    private readonly onConflict: (reason: string) => void,
  ) {}

  /** An access is under way or has just finished (step() must run to clear the done strobe). */
  get busy(): boolean {
    return this.countdown >= 0 || this.justDone;
  }

  /** One rising edge: sample the request lines, finish an access whose latency has run out. */
  step(ports: RootPortPorts): void {
    ports.cfg_mgmt_rd_wr_done = 0;
    if (this.countdown < 0) {
      const ignore = this.justDone;
      this.justDone = false;
      if (ignore || (!ports.cfg_mgmt_rd_en && !ports.cfg_mgmt_wr_en)) return;
      if (ports.cfg_mgmt_rd_en && ports.cfg_mgmt_wr_en) {
        this.conflicts++;
        this.onConflict(`cfg_mgmt_rd_en and cfg_mgmt_wr_en both high (dwaddr 0x${ports.cfg_mgmt_dwaddr.toString(16)}); access ignored`);
        return;
      }
      this.isWrite = ports.cfg_mgmt_wr_en !== 0;
      this.dwAddress = ports.cfg_mgmt_dwaddr & 0x3ff;
      this.data = ports.cfg_mgmt_di >>> 0;
      this.byteEnable = ports.cfg_mgmt_byte_en & 0xf;
      this.readonlyFlag = ports.cfg_mgmt_wr_readonly !== 0;
      this.rw1cAsRw = ports.cfg_mgmt_wr_rw1c_as_rw !== 0;
      this.countdown = this.latencyCycles;
    }
    if (this.countdown > 0) {
      this.countdown--;
      return;
    }
    if (this.isWrite) {
      this.space.write(this.dwAddress, this.data, this.byteEnable, { readonly: this.readonlyFlag, rw1cAsRw: this.rw1cAsRw });
      this.writes++;
    } else {
      ports.cfg_mgmt_do = this.space.read(this.dwAddress);
      this.reads++;
    }
    ports.cfg_mgmt_rd_wr_done = 1;
    this.countdown = -1;
    this.justDone = true;
  }
}
