import { SegmentationFault, type RemoteAddressSpace } from '@tsmpi/vm';
import { IntranodeError } from '../errors.js';
import type { ProcessContext } from './context.js';
import { cmaCallCost } from './pricing.js';
import type { Iovec, IntranodePeer } from './types.js';

/** UIO_MAXIOV: more iovec elements than this is EINVAL. */
export const IOV_MAX = 1024;

/**
 * Cross Memory Attach (LKML, 2010): process_vm_readv / process_vm_writev. One call copies directly
 * between two address spaces, translating the peer's pages through its page table (faulting them
 * in, as get_user_pages_remote does) and ours through our own: a single copy, no registration.
 *
 * Like the kernel (mm/process_vm_access.c), the remote iovecs are walked in order, a page at a
 * time; the first page that cannot be had (unmapped, protection, or a bad local buffer) ends the
 * call. The result is the number of bytes copied up to there; only a call that copied nothing
 * reports the error (EFAULT). The man page speaks of iovec-element granularity; the kernel code
 * returns the bytes actually copied, which may end inside an element — that is what this does.
 */
export class Cma {
  private readonly ctx: ProcessContext;

  constructor(ctx: ProcessContext) {
    this.ctx = ctx;
  }

  /** Copy from the peer's `remote` ranges into our `local` ranges; returns the bytes copied. */
  processVmReadv(peer: IntranodePeer, local: readonly Iovec[], remote: readonly Iovec[]): number {
    return this.rw(peer, local, remote, false);
  }

  /** Copy from our `local` ranges into the peer's `remote` ranges; returns the bytes copied. */
  processVmWritev(peer: IntranodePeer, local: readonly Iovec[], remote: readonly Iovec[]): number {
    return this.rw(peer, local, remote, true);
  }

  private rw(peer: IntranodePeer, local: readonly Iovec[], remote: readonly Iovec[], write: boolean): number {
    const call = write ? 'process_vm_writev' : 'process_vm_readv';
    const ctx = this.ctx;
    checkIov(local, call, 'local');
    checkIov(remote, call, 'remote');
    const peerSpace = ctx.peerSpace(peer, call);
    ctx.stats.cmaCalls++;
    const want = Math.min(total(local), total(remote));
    let copied = 0;
    let pages = 0;
    let failure: IntranodeError | undefined;
    const ps = ctx.memory.pageSize;
    let li = 0;
    let lOff = 0;
    outer: for (const r of remote) {
      let rOff = 0;
      while (rOff < r.length && copied < want) {
        while (li < local.length && lOff === local[li]!.length) {
          li++;
          lOff = 0;
        }
        const l = local[li]!;
        const ra = r.addr + rOff;
        const n = Math.min(ps - (ra % ps), r.length - rOff, l.length - lOff);
        const outcome = copyPiece(ctx, peerSpace, ra, l.addr + lOff, n, write);
        if (outcome !== undefined) {
          failure = new IntranodeError('EFAULT', call, outcome);
          break outer;
        }
        pages++;
        copied += n;
        rOff += n;
        lOff += n;
      }
      if (copied >= want) break;
    }
    ctx.clock.advance(cmaCallCost(ctx.cost, copied, pages));
    ctx.stats.cmaBytes += copied;
    ctx.stats.cmaPages += pages;
    if (failure !== undefined) {
      if (copied === 0) {
        ctx.stats.cmaErrors++;
        throw failure;
      }
      ctx.stats.cmaPartial++;
    }
    return copied;
  }
}

/**
 * Copy one piece that lies inside one remote page: translate the remote page under the read-begin
 * / retry rule and pin its frame for the copy (GUP), then copy through our own page table.
 * Returns why it failed, or undefined.
 */
function copyPiece(ctx: ProcessContext, peer: RemoteAddressSpace, remoteAddr: number, localAddr: number, n: number, write: boolean): string | undefined {
  const memory = ctx.memory;
  const ps = memory.pageSize;
  let frame: number;
  for (;;) {
    const seq = peer.readBegin();
    try {
      frame = peer.fault(remoteAddr, write ? 'write' : 'read');
    } catch (e) {
      if (e instanceof SegmentationFault) return `remote address 0x${remoteAddr.toString(16)} is not mapped ${write ? 'writable' : 'readable'} in the peer (${e.message})`;
      throw e;
    }
    if (!memory.tryPinFrame(frame)) continue;
    if (peer.readRetry(seq)) {
      memory.unpinFrame(frame);
      continue;
    }
    break;
  }
  try {
    const at = frame * ps + (remoteAddr % ps);
    if (write) ctx.space.readInto(localAddr, memory.bytes.subarray(at, at + n));
    else ctx.space.write(localAddr, memory.bytes.subarray(at, at + n));
    return undefined;
  } catch (e) {
    if (e instanceof SegmentationFault) return `local address 0x${localAddr.toString(16)} is not valid memory of this process (${e.message})`;
    throw e;
  } finally {
    memory.unpinFrame(frame);
  }
}

function checkIov(iov: readonly Iovec[], call: string, which: string): void {
  if (!Array.isArray(iov)) throw new IntranodeError('EINVAL', call, `${which} iovec must be an array of { addr, length }`);
  if (iov.length > IOV_MAX) throw new IntranodeError('EINVAL', call, `${iov.length} ${which} iovec elements; at most ${IOV_MAX} (UIO_MAXIOV)`);
  for (const v of iov) {
    if (!Number.isSafeInteger(v?.addr) || !Number.isSafeInteger(v?.length) || v.addr < 0 || v.length < 0) {
      throw new IntranodeError('EINVAL', call, `bad ${which} iovec element ${JSON.stringify(v)}: addr and length must be non-negative integers`);
    }
  }
}

function total(iov: readonly Iovec[]): number {
  return iov.reduce((s, v) => s + v.length, 0);
}
