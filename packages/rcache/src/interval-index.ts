/**
 * The region index: non-overlapping half-open intervals [start, end) kept in an AVL tree keyed by start.
 *
 *            [0x3000,0x5000)                 find(addr): walk down, remembering the last node whose start <= addr
 *           /               \                (the floor); it contains addr iff addr < floor.end. Because the
 *   [0x1000,0x2000)   [0x8000,0xa000)        intervals never overlap, the floor is the only candidate.
 *
 * Invariant (kept by the cache, not checked here for speed): no two stored intervals overlap. The cache
 * removes every region that overlaps a new one before inserting it (merge or displace), and the hooks source
 * watches exactly the cache's regions, so both users keep it.
 *
 * Why AVL rather than a sorted array: lookup is O(log n) either way, but inserting into a sorted array of
 * 10^5 regions moves ~50k elements per insert (tens of microseconds); the tree inserts and removes in
 * O(log n) with no such cliff. AVL rather than red-black because lookups dominate (every acquire) and AVL
 * trees are shallower (height <= 1.44 log2 n: at most 19 levels at 10^4 regions, 24 at 10^5).
 */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

class Node<T extends Interval> {
  left: Node<T> | null = null;
  right: Node<T> | null = null;
  height = 1;
  constructor(
    readonly key: number,
    readonly item: T,
  ) {}
}

const heightOf = <T extends Interval>(n: Node<T> | null): number => (n === null ? 0 : n.height);

export class IntervalIndex<T extends Interval> {
  private root: Node<T> | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Tree height (0 when empty); tests check it stays logarithmic. */
  get height(): number {
    return heightOf(this.root);
  }

  /** The interval that contains addr, if any. The hot path of every cache hit. */
  find(addr: number): T | undefined {
    let n = this.root;
    let floor: Node<T> | null = null;
    while (n !== null) {
      if (n.key <= addr) {
        floor = n;
        n = n.right;
      } else {
        n = n.left;
      }
    }
    return floor !== null && addr < floor.item.end ? floor.item : undefined;
  }

  /**
   * Calls visit for every interval that intersects [start, end), in address order. With touching=true,
   * intervals that merely touch the range (end === start or start === end) are visited too.
   */
  forEachOverlapping(start: number, end: number, visit: (item: T) => void, touching = false): void {
    // Intervals never overlap, so the only one starting before `start` that can reach into the range is
    // the floor of `start`; everything else that intersects starts inside [start, end).
    let lo = start;
    const floor = this.floorNode(start);
    if (floor !== null && (floor.item.end > start || (touching && floor.item.end === start))) lo = floor.key;
    const hi = touching ? end + 1 : end; // keys are integers: key < end + 1 means key <= end
    const walk = (n: Node<T> | null): void => {
      if (n === null) return;
      if (n.key > lo) walk(n.left);
      if (n.key >= lo && n.key < hi) visit(n.item);
      if (n.key < hi) walk(n.right);
    };
    walk(this.root);
  }

  /** Every interval that intersects [start, end), in address order. */
  overlapping(start: number, end: number, touching = false): T[] {
    const out: T[] = [];
    this.forEachOverlapping(start, end, (item) => out.push(item), touching);
    return out;
  }

  /** Adds item; throws if an interval with the same start is already stored (a broken caller invariant). */
  insert(item: T): void {
    this.root = this.insertAt(this.root, item);
    this.count++;
  }

  /** Removes item (matched by start and identity). Returns false when it was not stored. */
  remove(item: T): boolean {
    const before = this.count;
    this.root = this.removeAt(this.root, item);
    return this.count < before;
  }

  /** All intervals in address order (a copy, safe to mutate the index while iterating it). */
  values(): T[] {
    const out: T[] = [];
    const walk = (n: Node<T> | null): void => {
      if (n === null) return;
      walk(n.left);
      out.push(n.item);
      walk(n.right);
    };
    walk(this.root);
    return out;
  }

  clear(): void {
    this.root = null;
    this.count = 0;
  }

  private floorNode(addr: number): Node<T> | null {
    let n = this.root;
    let floor: Node<T> | null = null;
    while (n !== null) {
      if (n.key <= addr) {
        floor = n;
        n = n.right;
      } else {
        n = n.left;
      }
    }
    return floor;
  }

  private insertAt(n: Node<T> | null, item: T): Node<T> {
    if (n === null) return new Node(item.start, item);
    if (item.start < n.key) n.left = this.insertAt(n.left, item);
    else if (item.start > n.key) n.right = this.insertAt(n.right, item);
    else throw new Error(`interval index: an interval already starts at 0x${item.start.toString(16)}`);
    return rebalance(n);
  }

  private removeAt(n: Node<T> | null, item: T): Node<T> | null {
    if (n === null) return null;
    if (item.start < n.key) n.left = this.removeAt(n.left, item);
    else if (item.start > n.key) n.right = this.removeAt(n.right, item);
    else {
      if (n.item !== item) return n;
      this.count--;
      if (n.left === null) return n.right;
      if (n.right === null) return n.left;
      // Two children: the in-order successor takes this node's place.
      let succ = n.right;
      while (succ.left !== null) succ = succ.left;
      const right = detachMin(n.right);
      const replacement = new Node(succ.key, succ.item);
      replacement.left = n.left;
      replacement.right = right;
      return rebalance(replacement);
    }
    return rebalance(n);
  }
}

function detachMin<T extends Interval>(n: Node<T>): Node<T> | null {
  if (n.left === null) return n.right;
  n.left = detachMin(n.left);
  return rebalance(n);
}

function update<T extends Interval>(n: Node<T>): void {
  const l = heightOf(n.left);
  const r = heightOf(n.right);
  n.height = (l > r ? l : r) + 1;
}

function rotateRight<T extends Interval>(n: Node<T>): Node<T> {
  const l = n.left as Node<T>;
  n.left = l.right;
  l.right = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft<T extends Interval>(n: Node<T>): Node<T> {
  const r = n.right as Node<T>;
  n.right = r.left;
  r.left = n;
  update(n);
  update(r);
  return r;
}

function rebalance<T extends Interval>(n: Node<T>): Node<T> {
  update(n);
  const balance = heightOf(n.left) - heightOf(n.right);
  if (balance > 1) {
    const l = n.left as Node<T>;
    if (heightOf(l.left) < heightOf(l.right)) n.left = rotateLeft(l);
    return rotateRight(n);
  }
  if (balance < -1) {
    const r = n.right as Node<T>;
    if (heightOf(r.right) < heightOf(r.left)) n.right = rotateRight(r);
    return rotateLeft(n);
  }
  return n;
}
