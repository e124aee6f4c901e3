import type { BufferArg } from './buffer-spec.js';

/**
 * Pack and unpack: the argument's data bytes, in typemap order, to and from one contiguous run
 * (MPI_Pack / MPI_Unpack; the pack protocol's bounce or staging copy). Each goes through the rank's
 * page table, so freed or unmapped memory fails as any access to it does.
 */
export function packInto(arg: BufferArg, out: Uint8Array, at = 0): number {
  const memory = arg.buf.memory;
  let pos = at;
  for (const s of arg.segments()) {
    out.set(memory.read(s.addr, s.length), pos);
    pos += s.length;
  }
  return pos;
}

export function pack(arg: BufferArg): Uint8Array {
  const out = new Uint8Array(arg.bytes);
  packInto(arg, out);
  return out;
}

/** Writes `length` bytes of `data` from `at` into the argument's segments in typemap order (a short message fills a prefix). */
export function unpackFrom(arg: BufferArg, data: Uint8Array, at = 0, length = Math.min(arg.bytes, data.length - at)): void {
  const memory = arg.buf.memory;
  let pos = at;
  let left = length;
  for (const s of arg.segments()) {
    if (left <= 0) break;
    const n = Math.min(s.length, left);
    memory.write(s.addr, data.subarray(pos, pos + n));
    pos += n;
    left -= n;
  }
}
