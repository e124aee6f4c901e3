/**
 * The buffers a rank sends from or receives into, moved the way the pattern says (see
 * ../patterns.ts). As in OSU, buffers are allocated once per job at the largest size and each
 * size uses their first bytes — except under churn, whose point is a fresh allocation of the
 * current size every iteration. `next(i, bytes)` is called once per iteration before the buffer
 * is touched.
 *
 * The long-lived buffers start on a page boundary, as OSU's posix_memalign(page size) ones do, so
 * no two of them share a page. A plain malloc puts the next buffer 16 bytes after this one's end:
 * at the largest size the send and receive buffers' regions then overlap by a page and the
 * registration cache merges them into one MR partway through the warm-up iteration, after the send
 * half has already moved through the old MR. Under ODP that union's page table starts empty over
 * the send buffer, so the first timed send took a network page fault (the anomaly of the last size).
 */
import type { Pattern } from '../patterns.js';
import type { BenchBuffer, BenchComm } from './comm.js';
import { StridedBuffer } from './strided.js';

export class BufferSet {
  private readonly comm: BenchComm;
  private readonly pattern: Pattern;
  private buffers: BenchBuffer[] = [];
  /** The allocations under `buffers` (each a page longer, for the alignment), freed by dispose(). */
  private allocations: BenchBuffer[] = [];
  /** Churn: the live allocation. */
  private live: BenchBuffer | undefined;
  /** Pages the pattern migrated (the run reports them). */
  pagesMoved = 0;
  /** fork:K: the child of the last fork, alive until the next one (or dispose). */
  private child: { exit(): void } | undefined;

  constructor(comm: BenchComm, pattern: Pattern, maxBytes: number) {
    this.comm = comm;
    this.pattern = pattern;
    // the bug fork:K shows is the legacy one: pinned pages shared copy-on-write with the child
    if (pattern.kind === 'fork') comm.space.forkPolicy = 'legacy';
    if (pattern.kind !== 'churn') {
      const n = pattern.kind === 'rotate' ? pattern.buffers : 1;
      // strided: the data's blocks with a gap as long after each
      for (let b = 0; b < n; b++) this.buffers.push(this.pageAligned(pattern.kind === 'strided' ? 2 * maxBytes : maxBytes));
    }
  }

  /** posix_memalign(page size, bytes): a page longer than asked, viewed from its first page boundary. */
  private pageAligned(bytes: number): BenchBuffer {
    const ps = this.comm.space.pageSize;
    const raw = this.comm.alloc(Uint8Array, bytes + ps);
    this.allocations.push(raw);
    const first = (ps - (raw.addr % ps)) % ps;
    return raw.subarray(first, first + bytes);
  }

  next(iteration: number, bytes: number): BenchBuffer {
    const p = this.pattern;
    switch (p.kind) {
      case 'reuse':
        return this.buffers[0]!.subarray(0, bytes);
      case 'rotate':
        return this.buffers[iteration % p.buffers]!.subarray(0, bytes);
      case 'churn': {
        // free, then malloc the same size: a real heap hands back the same address, and from the
        // mmap threshold up the pages under it are new.
        if (this.live) this.live.free();
        this.live = this.comm.alloc(Uint8Array, bytes);
        return this.live;
      }
      case 'migrate': {
        const buf = this.buffers[0]!;
        if (iteration % p.every === p.every - 1) {
          const r = this.comm.space.migrate(buf.addr, bytes) as { moved?: number } | undefined;
          this.pagesMoved += typeof r?.moved === 'number' ? r.moved : 0;
        }
        return buf.subarray(0, bytes);
      }
      case 'fork': {
        if (iteration % p.every === p.every - 1) {
          this.child?.exit();
          this.child = this.comm.space.fork();
        }
        return this.buffers[0]!.subarray(0, bytes);
      }
      case 'strided': {
        // one vector type per size (the suites ask for the same size every iteration)
        if (this.strided?.byteLength !== bytes) {
          this.strided?.free();
          this.strided = new StridedBuffer(this.buffers[0]!.subarray(0, 2 * bytes), bytes);
        }
        return this.strided;
      }
    }
  }

  /** strided:M: the current size's message. */
  private strided: StridedBuffer | undefined;

  dispose(): void {
    this.strided?.free();
    this.strided = undefined;
    this.child?.exit();
    this.child = undefined;
    for (const a of this.allocations) a.free();
    this.allocations = [];
    this.buffers = [];
    if (this.live) this.live.free();
    this.live = undefined;
  }
}
