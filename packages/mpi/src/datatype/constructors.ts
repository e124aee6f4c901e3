import { InvalidArgument } from '../errors.js';
import { Datatype, type ArrayOrder, type Block } from './datatype.js';

/** The derived-type constructors' argument checks and blocks; Datatype.fromBlocks lays them out. */

function count(n: unknown, what: string): asserts n is number {
  Datatype.checkCount(n, what);
}

function integer(n: unknown, what: string): asserts n is number {
  if (!Number.isSafeInteger(n)) throw new InvalidArgument(what, `expected an integer, got ${String(n)}`);
}

function list(xs: unknown, what: string): asserts xs is readonly number[] {
  if (!Array.isArray(xs)) throw new InvalidArgument(what, `expected an array of integers, got ${String(xs)}`);
}

export function contiguous(n: number, old: Datatype): Datatype {
  count(n, 'contiguous count');
  Datatype.checkOld(old, 'Datatype.contiguous()');
  return Datatype.fromBlocks(`contiguous(${n}, ${old.name})`, [{ displacement: 0, count: n, type: old }]);
}

export function vector(n: number, blocklength: number, stride: number, old: Datatype, bytes: boolean): Datatype {
  const what = bytes ? 'hvector' : 'vector';
  count(n, `${what} count`);
  count(blocklength, `${what} blocklength`);
  integer(stride, `${what} stride`);
  Datatype.checkOld(old, `Datatype.${what}()`);
  const step = bytes ? stride : stride * old.extent;
  const blocks: Block[] = [];
  for (let i = 0; i < n; i++) blocks.push({ displacement: i * step, count: blocklength, type: old });
  return Datatype.fromBlocks(`${what}(${n}, ${blocklength}, ${stride}, ${old.name})`, blocks);
}

export function indexed(blocklengths: readonly number[], displacements: readonly number[], old: Datatype, bytes: boolean): Datatype {
  const what = bytes ? 'hindexed' : 'indexed';
  list(blocklengths, `${what} blocklengths`);
  list(displacements, `${what} displacements`);
  if (blocklengths.length !== displacements.length) {
    throw new InvalidArgument(`${what} displacements`, `${displacements.length} displacements for ${blocklengths.length} blocklengths: give one per block`);
  }
  Datatype.checkOld(old, `Datatype.${what}()`);
  const blocks = blocklengths.map((len, i): Block => {
    count(len, `${what} blocklengths[${i}]`);
    const d = displacements[i];
    integer(d, `${what} displacements[${i}]`);
    return { displacement: bytes ? d : d * old.extent, count: len, type: old };
  });
  return Datatype.fromBlocks(`${what}([${blocklengths.length} blocks], ${old.name})`, blocks);
}

export function struct(blocklengths: readonly number[], displacements: readonly number[], types: readonly Datatype[]): Datatype {
  list(blocklengths, 'struct blocklengths');
  list(displacements, 'struct displacements');
  if (!Array.isArray(types)) throw new InvalidArgument('struct types', `expected an array of Datatypes, got ${String(types)}`);
  if (blocklengths.length !== displacements.length || blocklengths.length !== types.length) {
    throw new InvalidArgument('struct', `blocklengths (${blocklengths.length}), displacements (${displacements.length}) and types (${types.length}) must have one entry per block`);
  }
  const blocks = blocklengths.map((len, i): Block => {
    count(len, `struct blocklengths[${i}]`);
    const d = displacements[i];
    integer(d, `struct displacements[${i}]`);
    const t = types[i];
    Datatype.checkOld(t, `Datatype.struct() types[${i}]`);
    return { displacement: d, count: len, type: t };
  });
  return Datatype.fromBlocks(`struct([${types.map((t) => t.name).join(', ')}])`, blocks, true);
}

export function subarray(sizes: readonly number[], subsizes: readonly number[], starts: readonly number[], order: ArrayOrder, old: Datatype): Datatype {
  list(sizes, 'subarray sizes');
  list(subsizes, 'subarray subsizes');
  list(starts, 'subarray starts');
  const dims = sizes.length;
  if (dims === 0 || subsizes.length !== dims || starts.length !== dims) {
    throw new InvalidArgument('subarray', `sizes (${dims}), subsizes (${subsizes.length}) and starts (${starts.length}) need one entry per dimension (at least one)`);
  }
  if (order !== 'C' && order !== 'Fortran') throw new InvalidArgument('subarray order', `expected 'C' or 'Fortran', got ${String(order)}`);
  Datatype.checkOld(old, 'Datatype.subarray()');
  for (let d = 0; d < dims; d++) {
    const [n, m, s] = [sizes[d], subsizes[d], starts[d]];
    if (!Number.isSafeInteger(n) || n! < 1) throw new InvalidArgument(`subarray sizes[${d}]`, `expected an integer >= 1, got ${String(n)}`);
    if (!Number.isSafeInteger(m) || m! < 1 || m! > n!) throw new InvalidArgument(`subarray subsizes[${d}]`, `expected 1..${n}, got ${String(m)}`);
    if (!Number.isSafeInteger(s) || s! < 0 || s! + m! > n!) throw new InvalidArgument(`subarray starts[${d}]`, `expected 0..${n! - m!} (start + subsize <= size), got ${String(s)}`);
  }
  // dimensions from slowest to fastest varying
  const axes = order === 'C' ? [...Array(dims).keys()] : [...Array(dims).keys()].reverse();
  const stride: number[] = new Array(dims).fill(0);
  let acc = old.extent;
  for (let k = dims - 1; k >= 0; k--) {
    stride[axes[k]!] = acc;
    acc *= sizes[axes[k]!]!;
  }
  const inner = axes[dims - 1]!;
  const blocks: Block[] = [];
  const index = new Array(dims).fill(0);
  for (;;) {
    let disp = 0;
    for (let d = 0; d < dims; d++) disp += (starts[d]! + (d === inner ? 0 : index[d])) * stride[d]!;
    blocks.push({ displacement: disp, count: subsizes[inner]!, type: old });
    let k = dims - 2;
    for (; k >= 0; k--) {
      const d = axes[k]!;
      if (++index[d] < subsizes[d]!) break;
      index[d] = 0;
    }
    if (k < 0) break;
  }
  const layout = Datatype.fromBlocks(`subarray([${sizes.join(', ')}], [${subsizes.join(', ')}], [${starts.join(', ')}], ${order}, ${old.name})`, blocks);
  return resized(layout, 0, acc, layout.name);
}

export function resized(old: Datatype, lb: number, extent: number, name?: string): Datatype {
  Datatype.checkOld(old, 'Datatype.resized()');
  integer(lb, 'resized lb');
  integer(extent, 'resized extent');
  const t = Datatype.fromBlocks(name ?? `resized(${old.name}, ${lb}, ${extent})`, [{ displacement: 0, count: 1, type: old }]);
  return new Datatype(t.name, {
    segments: [...t.segments], lb, ub: lb + extent, runs: [...t.runs], basic: t.basic, alignment: t.alignment,
  }, false);
}
