/**
 * The typemap engine: the one home for layout. A datatype's layout is a list of byte segments
 * (offset, length) in typemap order — the order MPI packs and sends them in, which need not be
 * address order — with neighbours that touch in memory merged, so a contiguous type is one segment.
 */
export interface Segment {
  /** bytes from the buffer's start (may be negative: a displacement below the base address) */
  readonly offset: number;
  readonly length: number;
}

/** Appends `s` to `out`, merging it into the last segment when they touch (a coalesced typemap). */
export function appendSegment(out: Segment[], offset: number, length: number): void {
  if (length === 0) return;
  const last = out[out.length - 1];
  if (last !== undefined && last.offset + last.length === offset) out[out.length - 1] = { offset: last.offset, length: last.length + length };
  else out.push({ offset, length });
}

/** `count` copies of `segments`, the i-th shifted by displacement + i × stride bytes, coalesced. */
export function repeatSegments(out: Segment[], segments: readonly Segment[], displacement: number, count: number, stride: number): void {
  for (let i = 0; i < count; i++) {
    const shift = displacement + i * stride;
    for (const s of segments) appendSegment(out, s.offset + shift, s.length);
  }
}

/** Lowest and highest byte the segments touch ([0, 0) for none): the true lower bound and upper bound. */
export function trueBounds(segments: readonly Segment[]): { lb: number; ub: number } {
  if (segments.length === 0) return { lb: 0, ub: 0 };
  let lb = Infinity;
  let ub = -Infinity;
  for (const s of segments) {
    if (s.offset < lb) lb = s.offset;
    if (s.offset + s.length > ub) ub = s.offset + s.length;
  }
  return { lb, ub };
}

/**
 * The basic elements a typemap holds, in order, as runs of one element size: what MPI_Get_elements
 * counts (a partial datatype received is still a whole number of basic elements, or undefined).
 */
export interface ElementRun {
  readonly size: number;
  readonly n: number;
}

export function appendRuns(out: ElementRun[], runs: readonly ElementRun[], times: number): void {
  if (times === 0) return;
  for (let t = 0; t < (runs.length === 1 ? 1 : times); t++) {
    for (const r of runs) {
      const n = runs.length === 1 ? r.n * times : r.n;
      const last = out[out.length - 1];
      if (last !== undefined && last.size === r.size) out[out.length - 1] = { size: r.size, n: last.n + n };
      else out.push({ size: r.size, n });
    }
  }
}

/** Basic elements that fit whole in the first `bytes` bytes of the runs; undefined if `bytes` ends inside one. */
export function elementsIn(runs: readonly ElementRun[], bytes: number): number | undefined {
  let n = 0;
  for (const r of runs) {
    const runBytes = r.size * r.n;
    if (bytes >= runBytes) {
      bytes -= runBytes;
      n += r.n;
      continue;
    }
    if (bytes % r.size !== 0) return undefined;
    return n + bytes / r.size;
  }
  return bytes === 0 ? n : undefined;
}
