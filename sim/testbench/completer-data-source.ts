// Plays the data source of `tlp_completer` (its data_request_* / data_response_* ports) in a run:
// takes each payload request, answers them in order with DWs from `memoryDw`, two per beat. When a
// beat is offered is random, but once offered it stays offered until taken, as AXI4-Stream requires.
import type { SignalHandle, Simulator } from "../engine/index.ts";
import { memoryDwAt } from "./tlp-completer-harness.ts";

export class CompleterDataSource {
  /** Requests taken, in order; each address as two 32-bit halves (no bigint arithmetic per beat). */
  private readonly pending: { low: number; high: number; dwLeft: number }[] = [];
  private readonly words = new Uint32Array(2);
  private readonly address = new Uint32Array(2);
  private offered = false;
  private readonly h: Record<string, SignalHandle> = {};

  /**
   * @param offer asked each cycle a beat is waiting but not yet offered: offer it now?
   * @param acceptRequest asked each cycle: is data_request_ready high?
   */
  constructor(
    private readonly sim: Simulator,
    private readonly offer: () => boolean,
    private readonly acceptRequest: () => boolean = offer,
  ) {
    for (const name of ["data_request_valid", "data_request_ready", "data_request_address", "data_request_length_dw",
      "data_response_tdata", "data_response_tkeep", "data_response_tlast", "data_response_tvalid", "data_response_tready"]) {
      this.h[name] = sim.signal(name);
    }
  }

  /** Called before each clock edge: drive this cycle's beat and request ready, then apply the edge's handshakes. */
  beforeEdge(): void {
    const { sim, h, pending } = this;
    this.offered = pending.length > 0 && (this.offered || this.offer());
    if (this.offered) {
      const answer = pending[0];
      this.words[0] = memoryDwAt(answer.low, answer.high);
      this.words[1] = answer.dwLeft > 1 ? memoryDwAt((answer.low + 4) >>> 0, answer.low + 4 > 0xffffffff ? (answer.high + 1) >>> 0 : answer.high) : 0;
      sim.pokeWords(h.data_response_tdata, this.words);
      sim.poke(h.data_response_tkeep, answer.dwLeft > 1 ? 0xff : 0x0f);
      sim.poke(h.data_response_tlast, answer.dwLeft <= 2 ? 1 : 0);
    }
    sim.poke(h.data_response_tvalid, this.offered ? 1 : 0);
    if (this.offered && sim.peek(h.data_response_tready)) {
      this.offered = false;
      const next = pending[0].low + 8;
      pending[0].low = next >>> 0;
      if (next > 0xffffffff) pending[0].high = (pending[0].high + 1) >>> 0;
      pending[0].dwLeft -= 2;
      if (pending[0].dwLeft <= 0) pending.shift();
    }
    const ready = this.acceptRequest();
    sim.poke(h.data_request_ready, ready ? 1 : 0);
    if (ready && sim.peek(h.data_request_valid)) {
      sim.peekWords(h.data_request_address, this.address);
      pending.push({ low: this.address[0], high: h.data_request_address.width > 32 ? this.address[1] : 0, dwLeft: sim.peek(h.data_request_length_dw) });
    }
  }
}
