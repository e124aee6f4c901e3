/**
 * strided:M (../patterns.ts): the message is a strided vector — blocks of STRIDED_BLOCK_BYTES with
 * a gap as long after each — in a buffer twice its size. A StridedBuffer stands for the message
 * where the suites expect a buffer (set and toArray write and read the blocks, in order), and
 * stridedComm hands it to the runtime as the buffer spec [buffer, 1, vector type].
 */
import { Datatype, UINT8 } from '@tsmpi/mpi';
import { STRIDED_BLOCK_BYTES } from '../patterns.js';
import type { BenchBuffer, BenchComm } from './comm.js';

/** The vector of `bytes` data bytes: whole blocks, the last one shorter if need be (one block below STRIDED_BLOCK_BYTES). */
function vectorOf(bytes: number): Datatype {
  const b = STRIDED_BLOCK_BYTES;
  const whole = Math.floor(bytes / b);
  const rest = bytes - whole * b;
  const blocks = [...Array(whole).fill(b), ...(rest > 0 ? [rest] : [])] as number[];
  return Datatype.hindexed(blocks, blocks.map((_, i) => 2 * b * i), UINT8).commit();
}

export class StridedBuffer implements BenchBuffer {
  readonly addr: number;
  readonly byteLength: number;
  /** @internal the spec the runtime gets */ readonly type: Datatype;

  /** `raw` holds 2 × bytes: the data blocks and the gaps. */
  constructor(private readonly raw: BenchBuffer, bytes: number, type?: Datatype) {
    this.addr = raw.addr;
    this.byteLength = bytes;
    this.type = type ?? vectorOf(bytes);
  }

  set(data: ArrayLike<number>, offset = 0): void {
    if (offset !== 0) throw new RangeError('StridedBuffer.set: only whole messages are written');
    const b = STRIDED_BLOCK_BYTES;
    for (let at = 0; at < data.length; at += b) {
      const end = Math.min(at + b, data.length);
      const piece = ArrayBuffer.isView(data) ? (data as unknown as Uint8Array).subarray(at, end) : (Array.prototype.slice.call(data, at, end) as number[]);
      this.raw.set(piece, 2 * at);
    }
  }

  toArray(): Uint8Array {
    const all = this.raw.toArray();
    const out = new Uint8Array(this.byteLength);
    const b = STRIDED_BLOCK_BYTES;
    for (let at = 0; at < out.length; at += b) out.set(all.subarray(2 * at, 2 * at + Math.min(b, out.length - at)), at);
    return out;
  }

  subarray(): BenchBuffer {
    throw new RangeError('strided:M runs the latency suite (one message per buffer): a StridedBuffer has no slices');
  }

  free(): void {
    this.type.free();
  }

  spec(): readonly [BenchBuffer, number, Datatype] {
    return [this.raw, 1, this.type];
  }
}

/** The communicator the suites see under strided:M: a StridedBuffer goes as its buffer spec. */
export function stridedComm(comm: BenchComm): BenchComm {
  const arg = (b: BenchBuffer): BenchBuffer => (b instanceof StridedBuffer ? (b.spec() as unknown as BenchBuffer) : b);
  return Object.assign(Object.create(comm) as BenchComm, {
    send: (b: BenchBuffer, dest: number, tag?: number) => comm.send(arg(b), dest, tag),
    recv: (b: BenchBuffer, source?: number, tag?: number) => comm.recv(arg(b), source, tag),
    isend: (b: BenchBuffer, dest: number, tag?: number) => comm.isend(arg(b), dest, tag),
    irecv: (b: BenchBuffer, source?: number, tag?: number) => comm.irecv(arg(b), source, tag),
  });
}
