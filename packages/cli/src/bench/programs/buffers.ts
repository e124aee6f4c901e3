/**
 * The buffers a rank sends from or receives into, moved the way the pattern says (see
 * ../patterns.ts). `next(i)` is called once per iteration before the buffer is touched.
 */
import type { Pattern } from '../patterns.js';
import type { BenchBuffer, BenchComm } from './comm.js';

export class BufferSet {
  private readonly comm: BenchComm;
  private readonly pattern: Pattern;
  private readonly bytes: number;
  private buffers: BenchBuffer[];
  /** Migrations that moved at least one page, and pages moved (the run reports both). */
  migrations = 0;
  pagesMoved = 0;

  constructor(comm: BenchComm, pattern: Pattern, bytes: number) {
    this.comm = comm;
    this.pattern = pattern;
    this.bytes = bytes;
    const n = pattern.kind === 'rotate' ? pattern.buffers : 1;
    this.buffers = [];
    for (let b = 0; b < n; b++) this.buffers.push(comm.alloc(Uint8Array, bytes));
  }

  next(iteration: number): BenchBuffer {
    const p = this.pattern;
    switch (p.kind) {
      case 'reuse':
        return this.buffers[0]!;
      case 'rotate':
        return this.buffers[iteration % p.buffers]!;
      case 'churn': {
        // free, then malloc the same size: a real heap hands back the same address, and from the
        // mmap threshold up the pages under it are new.
        if (iteration > 0) {
          this.buffers[0]!.free();
          this.buffers[0] = this.comm.alloc(Uint8Array, this.bytes);
        }
        return this.buffers[0]!;
      }
      case 'migrate': {
        const buf = this.buffers[0]!;
        if (iteration % p.every === p.every - 1) {
          const r = this.comm.space.migrate(buf.addr, buf.byteLength) as { moved?: number } | undefined;
          const moved = typeof r?.moved === 'number' ? r.moved : 0;
          if (moved > 0) this.migrations++;
          this.pagesMoved += moved;
        }
        return buf;
      }
    }
  }

  dispose(): void {
    for (const b of this.buffers) b.free();
    this.buffers = [];
  }
}
