/**
 * Pre-registered bounce buffers for eager messages and control envelopes (RTS, FIN): one mmap'ed,
 * registered slab cut into fixed slots, receive slots first, then send slots.
 *
 *   slab ─┬─ recv slot 0 ─┬─ ... ─┬─ recv slot R-1 ─┬─ send slot 0 ─┬─ ... ─┬─ send slot S-1 ─┐
 *
 * Receive slots are always posted to the rank's shared receive queue (reposted as soon as their
 * content is copied out). A send slot belongs to one in-flight send until its send completion; with
 * rnr_retry 'infinite' that completion may wait for the receiver to post a slot.
 */
export class BouncePool {
  readonly slotBytes: number;
  private readonly free: number[] = [];

  constructor(
    readonly addr: number,
    readonly lkey: number,
    slotBytes: number,
    readonly recvSlots: number,
    readonly sendSlots: number,
  ) {
    this.slotBytes = slotBytes;
    for (let i = sendSlots - 1; i >= 0; i--) this.free.push(i);
  }

  recvSlotAddr(i: number): number {
    return this.addr + i * this.slotBytes;
  }

  sendSlotAddr(i: number): number {
    return this.addr + (this.recvSlots + i) * this.slotBytes;
  }

  takeSendSlot(): number | undefined {
    return this.free.pop();
  }

  returnSendSlot(i: number): void {
    this.free.push(i);
  }

  get freeSendSlots(): number {
    return this.free.length;
  }

  /** Slab bytes for `eagerThreshold`: slots sized for an envelope plus the largest eager payload. */
  static layout(envelopeBytes: number, eagerThreshold: number, pageSize: number) {
    const slotBytes = Math.ceil((envelopeBytes + Math.max(eagerThreshold, 1)) / 64) * 64;
    // About 2 MiB of bounce space per rank (pinned, so it counts against the memlock limit),
    // split evenly; never fewer than 4 slots each way.
    const each = Math.max(4, Math.min(64, Math.floor((2 * 1024 * 1024) / slotBytes / 2)));
    const bytes = Math.ceil((slotBytes * each * 2) / pageSize) * pageSize;
    return { slotBytes, recvSlots: each, sendSlots: each, bytes };
  }
}
