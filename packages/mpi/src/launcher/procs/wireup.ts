import { randomBytes } from 'node:crypto';
import type { PmiClient } from '../pmi/client.js';
import { PMI_VALUE_MAX } from '../pmi/wire.js';
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

export interface WireUpSteps {
  /** Node 0 only, before the first fence: open the control server; returns its address. */
  control(jobHash: string, token: string): Promise<string>;
  /** Every node, once the token is known: open the network wire's listener; returns its address. */
  network(token: string): Promise<string>;
}

const KEY = {
  token: 'tsmpi-token',
  control: 'tsmpi-control',
  job: (k: number) => `tsmpi-job-${k}`,
  net: (k: number) => `tsmpi-net-${k}`,
};

/**
 * The PMI exchange, in two fenced rounds:
 *   1. every node puts its job description; node 0 also its control address and the token (unless the
 *      launcher gave one: tsmpi run --procs passes TSMPI_JOB_TOKEN). Fence. Every node reads all
 *      descriptions and refuses the job when any node describes a different one, then reads the token.
 *   2. every node opens its network listener (which needs the token to vet connections) and puts its
 *      address. Fence. Every node reads all addresses.
 */
export async function wireUp(pmi: PmiClient, identity: JobIdentity, env: NodeJS.ProcessEnv, steps: WireUpSteps): Promise<WireUp> {
  const node = pmi.rank;
  const nodes = pmi.size;
  const jobHash = identityHash(identity);
  const given = env.TSMPI_JOB_TOKEN;

  await putLong(pmi, KEY.job(node), encodeIdentity(identity));
  let token = given ?? '';
  let control = '';
  if (node === 0) {
    token ||= randomBytes(24).toString('hex');
    control = await steps.control(jobHash, token);
    if (given === undefined) await pmi.put(KEY.token, token);
    await pmi.put(KEY.control, control);
  }
  await pmi.fence();
  const reference = node === 0 ? identity : decodeIdentity(await getLong(pmi, KEY.job(0)), 0);
  // Every node checks every node against node 0, in the same order, so all refuse with the same message.
  for (let k = 1; k < nodes; k++) checkSameJob(reference, k === node ? identity : decodeIdentity(await getLong(pmi, KEY.job(k)), k), k);
  if (node !== 0) {
    token ||= await pmi.get(KEY.token);
    control = await pmi.get(KEY.control);
  }

  const mine = await steps.network(token);
  await pmi.put(KEY.net(node), mine || '-');
  await pmi.fence();
  const network: string[] = [];
  for (let k = 0; k < nodes; k++) {
    const a = k === node ? mine : await pmi.get(KEY.net(k));
    network.push(a === '-' ? '' : a);
  }
  return { node, nodes, token, jobHash, control, network };
}

/** Process managers keep values of at most PMI_VALUE_MAX characters: a longer one goes in numbered parts. */
const PART = PMI_VALUE_MAX - 24;

async function putLong(pmi: PmiClient, key: string, value: string): Promise<void> {
  const parts = Math.max(1, Math.ceil(value.length / PART));
  await pmi.put(key, String(parts));
  for (let i = 0; i < parts; i++) await pmi.put(`${key}.${i}`, value.slice(i * PART, (i + 1) * PART) || '-');
}

async function getLong(pmi: PmiClient, key: string): Promise<string> {
  const parts = Number(await pmi.get(key));
  let value = '';
  for (let i = 0; i < parts; i++) value += await pmi.get(`${key}.${i}`);
  return value === '-' ? '' : value;
}
