import { lookup } from 'node:dns/promises';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { UsageError } from '../../errors.js';

/**
 * The address a node process listens on and advertises through the PMI key-value space:
 *   1. `--iface NAME` or TSMPI_IFACE: that interface's IPv4 address (an address is accepted as is);
 *   2. every node on this host (tsmpi run --procs; Hydra's MPI_LOCALNRANKS equal to PMI_SIZE; a
 *      one-node Slurm step): 127.0.0.1;
 *   3. otherwise the address this host's name resolves to.
 * Never 0.0.0.0 unless asked for: the job's sockets are reachable only where the job needs them.
 */
export async function listenAddress(iface: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const wanted = iface ?? env.TSMPI_IFACE;
  if (wanted) return interfaceAddress(wanted);
  if (allNodesLocal(env)) return '127.0.0.1';
  try {
    const { address } = await lookup(hostname(), { family: 4 });
    return address;
  } catch (e) {
    throw new UsageError(`the host name ${hostname()} does not resolve (${(e as Error).message}): give --iface NAME (or TSMPI_IFACE) for the network the nodes share`);
  }
}

export function allNodesLocal(env: NodeJS.ProcessEnv): boolean {
  if (env.TSMPI_LOCAL_JOB === '1') return true;
  if (env.MPI_LOCALNRANKS !== undefined && env.MPI_LOCALNRANKS === env.PMI_SIZE) return true;
  return env.SLURM_NNODES === '1' || env.SLURM_JOB_NUM_NODES === '1';
}

function interfaceAddress(name: string): string {
  if (isIP(name)) return name;
  const all = networkInterfaces();
  const v4 = (all[name] ?? []).find((a) => a.family === 'IPv4');
  if (v4) return v4.address;
  const known = Object.entries(all).map(([n, as]) => `${n} (${(as ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address).join(', ') || 'no IPv4'})`);
  throw new UsageError(`--iface ${name}: no such interface with an IPv4 address; this host has ${known.join('; ')}`);
}
