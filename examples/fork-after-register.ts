// Run: npx tsmpi run -n 2 --rcache hooks examples/fork-after-register.ts legacy               (stale bytes)
//      npx tsmpi run -n 2 --rcache hooks --fork-safe examples/fork-after-register.ts legacy   (clean: DONTFORK)
//      npx tsmpi run -n 2 --rcache hooks examples/fork-after-register.ts copy-pinned          (clean: Linux 5.12+)
//      npx tsmpi run -n 2 --rcache notifier examples/fork-after-register.ts legacy            (clean: notifier)
//      npx tsmpi run -n 2 --fabric odp --rcache hooks examples/fork-after-register.ts legacy  (clean: ODP)
//
// Seed 001's other way a registration goes wrong: fork after register. Rank 0 sends a buffer
// (rendezvous: the receiver RDMA-reads it through rank 0's cached registration), forks — the child
// lives on, as a helper process would — then writes the next round into the same buffer and sends
// again. Under the legacy fork policy (kernels before 5.12) the pinned pages are shared
// copy-on-write with the child, so the parent's write moves it to a new page while the registration
// still reads the old one: rank 1 receives the previous round. Cures: ibv_fork_init (--fork-safe:
// the registered range is MADV_DONTFORK, absent in the child), the copy-pinned policy (pinned
// pages copied for the child at fork), a cache that hears the copy-on-write fault (notifier), or
// an adapter that pins nothing (ODP). The fork is the vm-level call comm.space.fork().
import { init } from '@tsmpi/mpi';

const world = init();
if (world.size !== 2) throw new Error(`run with -n 2 (got ${world.size})`);
const arg = process.argv[2] ?? 'legacy';
if (arg !== 'legacy' && arg !== 'copy-pinned') throw new Error(`fork policy: legacy or copy-pinned (got ${arg})`);
const policy: 'legacy' | 'copy-pinned' = arg;
const rounds = 4;
const bytes = 256 * 1024; // above the eager threshold: rendezvous, the receiver reads rank 0's registration

export function main() {
  if (world.rank === 0) {
    world.space.forkPolicy = policy;
    const buf = world.alloc(Uint8Array, bytes);
    const children = [];
    for (let round = 0; round < rounds; round++) {
      buf.fill(round + 1); // after a legacy fork this write copies the page away from the pinned frame
      world.send(buf, 1, round);
      children.push(world.space.fork()); // the child keeps the old pages shared until it exits
    }
    for (const child of children) child.exit();
    const s = world.stats();
    console.log(`rank 0: forked ${rounds} times under the ${policy} policy; send-side rcache invalidations: ${s.rcache['invalidations']}`);
    return { forks: rounds };
  }
  const buf = world.alloc(Uint8Array, bytes);
  const staleRounds: number[] = [];
  let staleBytes = 0;
  for (let round = 0; round < rounds; round++) {
    world.recv(buf, 0, round);
    const got = buf.toArray();
    let wrong = 0;
    for (const b of got) if (b !== round + 1) wrong++;
    if (wrong > 0) staleRounds.push(round);
    staleBytes += wrong;
  }
  console.log(
    staleBytes === 0
      ? `rank 1: all ${rounds} rounds correct`
      : `rank 1: STALE — rounds ${staleRounds.join(', ')} delivered an earlier round's bytes (${staleBytes} bytes)`,
  );
  return { staleBytes, staleRounds };
}
