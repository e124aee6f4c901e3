/**
 * One rank's pending work in virtual-time order: events taken from its completion queue and rings
 * (an arrival, an RDMA read that completed) and its own deferred posts (a send whose port
 * reservation must wait until no rank can still reserve earlier). A binary min-heap keyed by
 * (time, origin, order): `origin` is the world rank an event came from (this rank for its own), and
 * `order` its sequence from that origin, so items at one virtual time run in an order that does not
 * depend on which thread got there first.
 */
export interface TimelineItem {
  time: number;
  origin: number;
  order: number;
  /** A post that reserves a port (exact safety) rather than an event (safe with lookahead). */
  post?: boolean;
  run(): void;
}

export class Timeline {
  private readonly heap: TimelineItem[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The earliest item's time (Infinity when empty). */
  get nextTime(): number {
    return this.heap.length > 0 ? this.heap[0]!.time : Infinity;
  }

  peek(): TimelineItem | undefined {
    return this.heap[0];
  }

  push(item: TimelineItem): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): TimelineItem | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: TimelineItem, b: TimelineItem): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.origin !== b.origin) return a.origin < b.origin;
  return a.order < b.order;
}
