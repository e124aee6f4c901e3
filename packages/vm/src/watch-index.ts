/**
 * The index of watched ranges behind Ummunotify: an interval tree, as Linux keeps mmu interval
 * notifiers (`interval_tree_generic.h`: a balanced tree ordered by start, each node carrying the
 * largest end in its subtree). Here the balance comes from a treap (random heap priorities from a
 * fixed-seed xorshift, so a run is reproducible) instead of red-black colours.
 *
 *             [40,50) max 90            ordered by (start, seq); maxEnd = max end in the subtree
 *            /              \
 *   [10,90) max 90     [60,70) max 80
 *                          /
 *                   [55,80) max 80
 *
 * Query [a, b): a subtree whose maxEnd <= a holds nothing that reaches a, and the right side of a node
 * whose start >= b starts at or after b; both are skipped. Every node entered either overlaps, or
 * lies on the path to the first start >= b, or is an ancestor of one that overlaps: when watches do
 * not nest (a registration cache's regions) the overlapping ones are consecutive in order and a
 * query costs O(log n + k); nested watches add at most the depth per hit.
 * Insert and remove are O(log n) expected, with no allocation beyond the node itself.
 *
 * Owner thread only (the mmu notifier callback and the register/unregister calls all run there).
 */
export class RangeNode {
  left: RangeNode | null = null;
  right: RangeNode | null = null;
  /** largest `end` in this node's subtree */
  maxEnd: number;
  priority = 0;

  constructor(
    readonly start: number,
    readonly end: number,
    /** insertion order, unique: breaks ties between equal starts and orders query results */
    readonly seq: number,
  ) {
    this.maxEnd = end;
  }
}

const before = (x: RangeNode, y: RangeNode): boolean => x.start < y.start || (x.start === y.start && x.seq < y.seq);

function pull(n: RangeNode): void {
  let m = n.end;
  if (n.left !== null && n.left.maxEnd > m) m = n.left.maxEnd;
  if (n.right !== null && n.right.maxEnd > m) m = n.right.maxEnd;
  n.maxEnd = m;
}

export class WatchIndex<N extends RangeNode> {
  private root: RangeNode | null = null;
  private rng = 0x9e3779b9;
  size = 0;
  /** nodes entered by queries since construction: the cost a test can bound without a clock */
  visited = 0;

  insert(node: N): void {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    node.priority = this.rng;
    node.left = node.right = null;
    node.maxEnd = node.end;
    this.root = this.insertAt(this.root, node);
    this.size++;
  }

  /** Removes a node previously inserted (and not removed since); anything else is ignored. */
  remove(node: N): void {
    const found = { hit: false };
    this.root = this.removeAt(this.root, node, found);
    if (found.hit) {
      this.size--;
      node.left = node.right = null;
    }
  }

  /** Appends to `out` every node whose [start, end) overlaps [start, end), in (start, seq) order. */
  overlapping(start: number, end: number, out: N[]): void {
    this.collect(this.root, start, end, out);
  }

  clear(): void {
    this.root = null;
    this.size = 0;
  }

  private collect(n: RangeNode | null, a: number, b: number, out: N[]): void {
    while (n !== null && n.maxEnd > a) {
      this.visited++;
      this.collect(n.left, a, b, out);
      if (n.start >= b) return;
      if (n.end > a) out.push(n as N);
      n = n.right;
    }
  }

  private insertAt(t: RangeNode | null, n: RangeNode): RangeNode {
    if (t === null) return n;
    if (n.priority > t.priority) {
      this.split(t, n);
      pull(n);
      return n;
    }
    if (before(n, t)) t.left = this.insertAt(t.left, n);
    else t.right = this.insertAt(t.right, n);
    if (n.maxEnd > t.maxEnd) t.maxEnd = n.maxEnd;
    return t;
  }

  /** Splits `t` around `n`'s key into n.left (before n) and n.right (after n). */
  private split(t: RangeNode | null, n: RangeNode): void {
    // iterative split: `l`/`r` are the nodes whose right/left link receives the next piece
    const lHead = new RangeNode(0, 0, -1);
    const rHead = new RangeNode(0, 0, -1);
    let l = lHead;
    let r = rHead;
    const touched: RangeNode[] = [];
    while (t !== null) {
      touched.push(t);
      if (before(t, n)) {
        l.right = t;
        l = t;
        t = t.right;
      } else {
        r.left = t;
        r = t;
        t = t.left;
      }
    }
    l.right = null;
    r.left = null;
    n.left = lHead.right;
    n.right = rHead.left;
    // subtrees shrank bottom-up along the split path
    for (let i = touched.length - 1; i >= 0; i--) pull(touched[i]!);
  }

  private merge(a: RangeNode | null, b: RangeNode | null): RangeNode | null {
    if (a === null) return b;
    if (b === null) return a;
    if (a.priority > b.priority) {
      a.right = this.merge(a.right, b);
      pull(a);
      return a;
    }
    b.left = this.merge(a, b.left);
    pull(b);
    return b;
  }

  private removeAt(t: RangeNode | null, n: RangeNode, found: { hit: boolean }): RangeNode | null {
    if (t === null) return null;
    if (t === n) {
      found.hit = true;
      return this.merge(t.left, t.right);
    }
    if (before(n, t)) t.left = this.removeAt(t.left, n, found);
    else t.right = this.removeAt(t.right, n, found);
    if (found.hit) pull(t);
    return t;
  }
}
