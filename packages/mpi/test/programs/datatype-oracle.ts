// Random derived datatypes for the property tests (fast-check arbitraries) and an oracle that lays
// them out byte by byte from MPI's definitions — written apart from src/datatype's typemap engine,
// so the two can disagree.
import fc from 'fast-check';
import { Datatype, UINT8 } from '@tsmpi/mpi';

export type Desc =
  | { k: 'basic'; size: 1 | 2 | 4 | 8 }
  | { k: 'vector'; count: number; bl: number; stride: number; of: Desc }
  | { k: 'indexed'; bls: number[]; displs: number[]; of: Desc }
  | { k: 'resized'; lb: number; extent: number; of: Desc };

// elements of 1, 2, 4 and 8 bytes, all of bytes: the tests' buffers are Uint8Array (a type of
// INT32 over them would be refused as a mismatch, rightly)
const BASIC = { 1: UINT8, 2: Datatype.contiguous(2, UINT8), 4: Datatype.contiguous(4, UINT8), 8: Datatype.contiguous(8, UINT8) } as const;

/** A Desc as a Datatype (not committed). */
export function build(d: Desc): Datatype {
  switch (d.k) {
    case 'basic':
      return BASIC[d.size];
    case 'vector':
      return Datatype.vector(d.count, d.bl, d.stride, build(d.of));
    case 'indexed':
      return Datatype.indexed(d.bls, d.displs, build(d.of));
    case 'resized':
      return Datatype.resized(build(d.of), d.lb, d.extent);
  }
}

interface Layout {
  /** byte offsets of the data, in typemap order */
  bytes: number[];
  lb: number;
  ub: number;
}

/** MPI's definitions, element by element: where each copy of `of` goes, and the bounds it brings. */
export function layout(d: Desc): Layout {
  if (d.k === 'basic') return { bytes: Array.from({ length: d.size }, (_, i) => i), lb: 0, ub: d.size };
  const inner = layout(d.of);
  if (d.k === 'resized') return { bytes: inner.bytes, lb: d.lb, ub: d.lb + d.extent };
  const extent = inner.ub - inner.lb;
  const shifts: number[] = [];
  if (d.k === 'vector') {
    for (let i = 0; i < d.count; i++) for (let j = 0; j < d.bl; j++) shifts.push((i * d.stride + j) * extent);
  } else {
    d.bls.forEach((bl, b) => {
      for (let j = 0; j < bl; j++) shifts.push((d.displs[b]! + j) * extent);
    });
  }
  if (shifts.length === 0) return { bytes: [], lb: 0, ub: 0 };
  return {
    bytes: shifts.flatMap((s) => inner.bytes.map((x) => x + s)),
    lb: Math.min(...shifts) + inner.lb,
    ub: Math.max(...shifts) + inner.ub,
  };
}

/** `count` elements: the byte offsets in order (element k shifted by k × extent). */
export function bytesOf(d: Desc, count: number): number[] {
  const l = layout(d);
  const out: number[] = [];
  for (let k = 0; k < count; k++) for (const b of l.bytes) out.push(b + k * (l.ub - l.lb));
  return out;
}

const basic = fc.constantFrom(1, 2, 4, 8).map((size) => ({ k: 'basic', size }) as Desc);

/** Types whose data never overlaps itself and never lies below byte 0 (strides and displacements >= 0, resized extents covering the data). */
const anyDesc: fc.Arbitrary<Desc> = fc.letrec<{ d: Desc }>((tie) => ({
  d: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    basic,
    fc.record({ count: fc.integer({ min: 1, max: 6 }), bl: fc.integer({ min: 1, max: 4 }), gap: fc.integer({ min: 0, max: 5 }), of: tie('d') })
      .map(({ count, bl, gap, of }) => ({ k: 'vector', count, bl, stride: bl + gap, of }) as Desc),
    fc.array(fc.record({ bl: fc.integer({ min: 0, max: 3 }), gap: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 5 }).chain((blocks) =>
      tie('d').map((of) => {
        let at = 0;
        const displs = blocks.map((b) => { const d = at + b.gap; at = d + b.bl; return d; });
        return { k: 'indexed', bls: blocks.map((b) => b.bl), displs, of } as Desc;
      })),
    fc.record({ pad: fc.integer({ min: 0, max: 24 }), of: tie('d') }).map(({ pad, of }) => {
      const l = layout(of);
      return { k: 'resized', lb: l.lb, extent: l.ub - l.lb + pad, of } as Desc;
    }),
  ),
})).d;

/** Highest byte offset + 1 (1 for none): the buffer a message of these bytes needs. */
export function spanOf(bytes: readonly number[]): number {
  return bytes.reduce((m, b) => Math.max(m, b + 1), 1);
}

/** Types of at most 4 KiB of data per element (nesting multiplies quickly). */
export const descArb: fc.Arbitrary<Desc> = anyDesc.filter((d) => layout(d).bytes.length <= 4096);
