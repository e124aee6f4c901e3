/**
 * gatherv, scatterv, allgatherv, alltoallv, reduceScatter(Block), scan, exscan and their object
 * forms, on 8 ranks and on groups of 1, 2, 3, 4 and 5 split from them (programs/coll-v.ts), with
 * uneven, zero and rendezvous-sized counts. Asserts every rank's results element by element and
 * the exact messages each call sent, counted by the message engine and by the collectives, against
 * the textbook count of each algorithm.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../src/index.js';
import { PATTERNS } from './programs/coll-v.js';

type Report = { size: number; wrong: string[]; traffic: Record<string, [number, number]> };

/** Messages rank `r` of `p` sends in each call, by the algorithm's definition. */
function textbook(r: number, p: number): Record<string, number> {
  const out: Record<string, number> = {};
  const range = (n: number) => Array.from({ length: n }, (_, k) => k);
  const nonzero = (xs: number[]) => xs.filter((x) => x > 0).length;
  for (const [name, cnt] of Object.entries(PATTERNS)) {
    const counts = range(p).map((i) => cnt(i, p));
    for (let root = 0; root < p; root++) {
      // linear: a non-root sends its block if it has one; the root sends one per other nonzero block
      out[`gatherv ${name} root ${root}`] = r !== root && counts[r]! > 0 ? 1 : 0;
      out[`scatterv ${name} root ${root}`] = r === root ? nonzero(counts.filter((_, i) => i !== root)) : 0;
    }
    // ring: in step i rank r forwards block r - i, i = 0..p-2
    out[`allgatherv ${name}`] = p === 1 ? 0 : nonzero(range(p - 1).map((i) => counts[(r - i + p) % p]!));
    out[`alltoallv ${name}`] = nonzero(range(p).filter((j) => j !== r).map((j) => cnt((r + 2 * j) % p, p)));
    out[`reduceScatter ${name}`] = p === 1 ? 0 : nonzero(counts.filter((_, j) => j !== r));
  }
  out.reduceScatterBlock = p - 1;
  const partners = range(Math.ceil(Math.log2(p))).filter((b) => (r ^ (1 << b)) < p).length;
  for (const n of [0, 5, 4000]) out[`scan ${n}`] = out[`exscan ${n}`] = n === 0 ? 0 : partners;
  return out;
}

describe('v-collectives, reduce-scatter and scans', () => {
  it('deliver every block on 1, 2, 3, 4, 5 and 8 ranks with uneven and zero counts, with the textbook message counts', async () => {
    const r = await runJob({ np: 8, program: new URL('./programs/coll-v.ts', import.meta.url) });
    expect(r.error).toBeUndefined();
    const ranks = r.ranks.map((x) => x.value as { reports: Report[]; algorithms: Record<string, number> });
    const sizes = new Set<number>();
    for (const { reports } of ranks) {
      for (const rep of reports) {
        sizes.add(rep.size);
        expect(rep.wrong).toEqual([]);
      }
    }
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5, 8]);
    // world reports: rank r of 8; group reports: their rank in the group is found from the traffic keys' owner
    for (let w = 0; w < 8; w++) {
      const rep = ranks[w]!.reports[0]!;
      const want = textbook(w, 8);
      for (const [key, [engine, coll]] of Object.entries(rep.traffic)) {
        expect({ key, engine, coll }).toEqual({ key, engine: want[key], coll: want[key] });
      }
    }
    // summed over each group, engine and collective counters agree with the textbook totals
    const perSize = new Map<number, { engine: number; coll: number }>();
    for (const { reports } of ranks) {
      for (const rep of reports.slice(1)) {
        const t = perSize.get(rep.size) ?? { engine: 0, coll: 0 };
        for (const [engine, coll] of Object.values(rep.traffic)) { t.engine += engine; t.coll += coll; }
        perSize.set(rep.size, t);
      }
    }
    for (const [p, t] of perSize) {
      const groups = p === 1 ? 2 : 1; // two groups of one rank
      let want = 0;
      for (let g = 0; g < p; g++) want += Object.values(textbook(g, p)).reduce((a, b) => a + b, 0);
      expect({ p, ...t }).toEqual({ p, engine: want * groups, coll: want * groups });
    }
    const algos = ranks[0]!.algorithms;
    expect(algos['allgatherv.ring']).toBeGreaterThan(0);
    expect(algos['reduceScatter.pairwise']).toBeGreaterThan(0);
    expect(algos['scan.recursiveDoubling']).toBeGreaterThan(0);
    expect(algos['exscan.recursiveDoubling']).toBeGreaterThan(0);
  });
});
