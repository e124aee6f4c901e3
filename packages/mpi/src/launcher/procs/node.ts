import { NetworkWire } from '@tsmpi/fabric';
import { runJob, toProgramURL, type JobResult, type RunJobOptions } from '../job.js';
import { createNodes } from '../nodes.js';
import { resolveOptions } from '../../options.js';
import { WireUpError } from '../../errors.js';
import { connectPmi, type PmiClient } from '../pmi/client.js';
import { listenAddress } from './address.js';
import { ControlHub, joinControl, type ControlLink } from './control.js';
import { jobIdentity } from './identity.js';
import { NodeRole } from './role.js';
import { wireUp, type WireUp } from './wireup.js';

export interface RunNodeOptions extends RunJobOptions {
  /** --iface: the interface (or address) whose address the node listens on and advertises. */
  iface?: string;
  /** The environment the process manager set (PMI_FD / PMI_PORT, PMI_RANK, TSMPI_PMI, ...). */
  env?: NodeJS.ProcessEnv;
  /** Where warnings go (refused connections); default stderr. */
  warn?: (line: string) => void;
}

export interface NodeJobResult extends JobResult {
  /** This process is node 0: `ranks` and `totals` cover the whole job, and it is the one that reports. */
  leader: boolean;
  node: number;
}

/** How long node 0 waits for every other node to join its control connection. */
const JOIN_MS = 60_000;
/** How long a node waits, after the job's end, for node 0 to finish reporting and exit. */
const LINGER_MS = 3_000;

function closedOrTimeout(link: ControlLink, ms: number): Promise<void> {
  return new Promise((done) => {
    if (link.isClosed) return done();
    const timer = setTimeout(done, ms);
    link.socket.once('close', () => {
      clearTimeout(timer);
      done();
    });
  });
}

/**
 * `tsmpi run` started by a process manager (mpiexec, srun --mpi=pmi2, tsmpi run --procs): this process
 * becomes node PMI_RANK of a PMI_SIZE-node job. It wires up through the PMI key-value space, joins
 * node 0's control connection, and runs only its own node's ranks, placed as `--nodes K` places them.
 */
export async function runNode(opts: RunNodeOptions): Promise<NodeJobResult> {
  const { env = process.env } = opts;
  const pmi = await connectPmi(env);
  try {
    return await asNode(pmi, opts);
  } catch (e) {
    // This node cannot join: drop the PMI socket so the process exits and its manager ends the others.
    pmi.close();
    throw e;
  }
}

async function asNode(pmi: PmiClient, opts: RunNodeOptions): Promise<NodeJobResult> {
  const { iface, env = process.env, warn = (s) => process.stderr.write(s + '\n'), ...job } = opts;
  if (job.nodes !== undefined && job.nodes !== pmi.size) {
    throw new WireUpError(
      `the process manager started ${pmi.size} node process(es) but this job asks for --nodes ${job.nodes}: ` +
        `start one process per node (mpiexec -n ${job.nodes} / srun -N ${job.nodes}) or drop --nodes`,
    );
  }
  const nodes = pmi.size;
  const { np, program, args = [], captureOutput: _c, ...rest } = job;
  const options = resolveOptions(np, { ...rest, nodes });
  const identity = jobIdentity(np, options, toProgramURL(program), args);
  const host = await listenAddress(iface, env);
  const node = pmi.rank;
  // This process owns one node: its memory and adapter exist before wire-up, the network wire listens with it.
  const own = createNodes(np, options, node);
  let net: NetworkWire | undefined;
  let hub: ControlHub | undefined;
  let w: WireUp;
  let links: Map<number, ControlLink>;
  try {
    w = await wireUp(pmi, identity, env, {
      control: async (jobHash, token) => {
        hub = new ControlHub(pmi.size, token, jobHash, warn);
        return hub.listen(host);
      },
      network: async (token) => {
        if (pmi.size === 1) return ''; // alone: no other node to reach
        net = await NetworkWire.listen({ adapter: own.adapters[node]!, host, token, onError: (e) => warn(`tsmpi: node ${node}: ${e.message}`) });
        return net.address;
      },
    });
    net?.connectPeers(w.network.flatMap((address, nodeId) => (nodeId === node ? [] : [{ nodeId, address }])));
    if (hub) {
      await hub.joined(JOIN_MS);
      hub.stopListening();
      links = hub.links;
    } else {
      links = new Map([[0, await joinControl(w.control, w.token, w.node, w.jobHash)]]);
    }
  } catch (e) {
    void net?.close();
    hub?.stopListening();
    for (const l of hub?.links.values() ?? []) l.close(undefined);
    throw e;
  }
  // The PMI socket stays open for the whole job (Hydra reads a close before finalize as a failure).
  pmi.unref();
  const role = new NodeRole(w.node, w.nodes, np, links, own, net?.handle, net);
  const result = await runJob({ ...job, nodes, role });
  await net?.close();
  await pmi.finalize().catch(() => {});
  if (role.leader) {
    // Node 0 reports after this returns; its links close when its process exits, and only then do
    // the other nodes exit (a process manager that sees a node end early may kill the rest first).
    for (const l of links.values()) l.socket.unref();
  } else {
    await closedOrTimeout(links.get(0)!, LINGER_MS);
  }
  return { ...result, leader: role.leader, node: w.node };
}
