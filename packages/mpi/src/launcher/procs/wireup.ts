import { randomBytes } from 'node:crypto';
import { WireUpError } from '../../errors.js';
import type { PmiClient } from '../pmi/client.js';
import { checkSameJob, decodeIdentity, encodeIdentity, identityHash, type JobIdentity } from './identity.js';

/** What every node learns at wire-up. */
export interface WireUp {
  node: number;
  nodes: number;
  /** The job's random token: every connection between its nodes presents it first. */
  token: string;
  /** The hash of the job's identity (the same on every node, or wire-up failed). */
  jobHash: string;
  /** Node 0's control address. */
  control: string;
  /** Each node's network-wire address (the fabric's listener), by node. */
  network: string[];
}

const KEY = {
  token: 'tsmpi-token',
  node: (k: number) => `tsmpi-node-${k}`,
  job: (k: number) => `tsmpi-job-${k}`,
};

/**
 * The PMI exchange: every node puts its addresses and its job description, node 0 also the token
 * (unless the launcher gave one: tsmpi run --procs passes TSMPI_JOB_TOKEN); one fence; every node
 * gets everybody's and refuses the job when any node describes a different one.
 *
 * `listen` opens this node's sockets on the chosen address and returns them (node 0's control
 * server included), so the addresses exist before anyone reads them.
 */
export async function wireUp(
  pmi: PmiClient,
  identity: JobIdentity,
  env: NodeJS.ProcessEnv,
  listen: (jobHash: string, token: string) => Promise<{ control?: string; network: string }>,
): Promise<WireUp> {
  const node = pmi.rank;
  const nodes = pmi.size;
  if (identity.nodes !== nodes) {
    throw new WireUpError(
      `the process manager started ${nodes} node process(es) but this job asks for --nodes ${identity.nodes}: ` +
        `start one process per node (mpiexec -n ${identity.nodes} / srun -N ${identity.nodes}) or drop --nodes`,
    );
  }
  const jobHash = identityHash(identity);
  // Members learn node 0's token only after the fence; their listeners check it from then on.
  const given = env.TSMPI_JOB_TOKEN;
  const ownToken = given ?? (node === 0 ? randomBytes(24).toString('hex') : '');
  const addrs = await listen(jobHash, ownToken);
  if (node === 0 && given === undefined) await pmi.put(KEY.token, ownToken);
  await pmi.put(KEY.node(node), `${addrs.control ?? '-'}|${addrs.network}`);
  await pmi.put(KEY.job(node), encodeIdentity(identity));
  await pmi.fence();

  const reference = node === 0 ? identity : decodeIdentity(await pmi.get(KEY.job(0)), 0);
  // Every node checks every node against node 0, in the same order, so all refuse with the same message.
  for (let k = 1; k < nodes; k++) checkSameJob(reference, k === node ? identity : decodeIdentity(await pmi.get(KEY.job(k)), k), k);
  const token = given ?? (node === 0 ? ownToken : await pmi.get(KEY.token));
  const network: string[] = [];
  let control = '';
  for (let k = 0; k < nodes; k++) {
    const [c, n] = (k === node ? `${addrs.control ?? '-'}|${addrs.network}` : await pmi.get(KEY.node(k))).split('|');
    if (k === 0) control = c ?? '';
    network.push(n ?? '');
  }
  if (!control || control === '-') throw new WireUpError('node 0 put no control address in the key-value space');
  return { node, nodes, token, jobHash, control, network };
}
