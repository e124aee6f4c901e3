/**
 * A device over a @tsmpi/vm address space, the way the fabric's adapters behave, reduced to what the
 * cache tests need:
 *   'pin'      — register() pins every page and snapshots the frames (a dumb pinning adapter): the frames
 *                stay allocated, so a stale registration really reads the old bytes.
 *   'snapshot' — register() faults the pages in and snapshots their frames but pins nothing, so migrate()
 *                can move them under the registration (as it moves mlocked pages on Linux).
 * dmaRead() reads through the snapshot, which is what the adapter's DMA would deliver.
 */
import type { AddressSpace } from '@tsmpi/vm';
import type { RegistrationOps } from '@tsmpi/rcache';

export interface VmRegistration {
  readonly start: number;
  readonly end: number;
  readonly frames: number[];
}

export class VmDevice implements RegistrationOps<VmRegistration> {
  readonly live = new Set<VmRegistration>();
  constructor(
    readonly as: AddressSpace,
    readonly mode: 'pin' | 'snapshot' = 'pin',
  ) {}

  register(start: number, end: number): VmRegistration {
    const ps = this.as.pageSize;
    let frames: number[];
    if (this.mode === 'pin') {
      frames = this.as.pin(start, end - start);
    } else {
      this.as.runs(start, end - start, 'read'); // demand-fault every page, as registration does
      frames = [];
      for (let a = start; a < end; a += ps) frames.push(this.as.translate(a) as number);
    }
    const reg = { start, end, frames };
    this.live.add(reg);
    return reg;
  }

  deregister(reg: VmRegistration): void {
    if (!this.live.delete(reg)) throw new Error('deregister of a registration that is not live');
    if (this.mode === 'pin') this.as.unpin(reg.frames);
  }

  /** Pages of the registration whose frame is no longer the one mapped at that address now. */
  stalePages(reg: VmRegistration): number {
    const ps = this.as.pageSize;
    let n = 0;
    reg.frames.forEach((f, i) => {
      if (this.as.translate(reg.start + i * ps) !== f) n++;
    });
    return n;
  }

  /** Bytes [addr, addr + length) as the adapter's DMA sees them: through the registration's frames. */
  dmaRead(reg: VmRegistration, addr: number, length: number): Uint8Array {
    const ps = this.as.pageSize;
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const a = addr + i;
      const f = reg.frames[Math.floor((a - reg.start) / ps)] as number;
      out[i] = this.as.memory.bytes[f * ps + ((a - reg.start) % ps)] as number;
    }
    return out;
  }
}
