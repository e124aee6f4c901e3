/**
 * Ranks are spread over nodes in blocks (mpirun's default "by slot" mapping): with 5 ranks on 2 nodes,
 * ranks 0-2 live on node 0 and ranks 3-4 on node 1.
 */
export function nodeOfRank(rank: number, np: number, nodes: number): number {
  const base = Math.floor(np / nodes);
  const extra = np % nodes; // the first `extra` nodes hold one rank more
  const bigBlock = base + 1;
  if (rank < extra * bigBlock) return Math.floor(rank / bigBlock);
  return extra + Math.floor((rank - extra * bigBlock) / base);
}

export function ranksOfNode(node: number, np: number, nodes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < np; r++) if (nodeOfRank(r, np, nodes) === node) out.push(r);
  return out;
}
