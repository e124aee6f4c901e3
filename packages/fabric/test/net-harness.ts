// Runs a two-rank scenario (net-scenarios.ts) in one thread over InProcessWire, or as two node
// processes (workers/net-node.ts) over NetworkWire on loopback. Every wait is bounded and says what
// it waited for; children are killed in `stop`, whatever happened.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { InProcessWire, VirtualClock, createAdapter, type AdapterKind, type Completion } from '@tsmpi/fabric';
import { scenarios, type NetRank } from './net-scenarios.js';

const WAIT_MS = 20_000;

export async function inProcess(kind: AdapterKind, scenario: string): Promise<Record<string, unknown>[]> {
  const adapters = [0, 1].map((nodeId) => createAdapter(kind, { memory: new PhysicalMemory({ bytes: 32 * 1024 * 1024 }), nodeId }));
  const wire = new InProcessWire(adapters);
  const ranks = adapters.map((adapter) => {
    const space = new AddressSpace(adapter.memory, { memlockLimit: Infinity });
    const clock = new VirtualClock();
    const pd = adapter.openDomain(space, clock, { wire });
    const cq = pd.createCompletionQueue({ depth: 64 });
    return { space, clock, pd, cq, qp: pd.createQueuePair({ sendCq: cq, recvCq: cq }) };
  });
  ranks[0]!.qp.connect(ranks[1]!.qp.address);
  ranks[1]!.qp.connect(ranks[0]!.qp.address);
  const slots: Array<{ data: unknown; resolve: (v: unknown) => void } | undefined> = [undefined, undefined];
  const env = (i: number): NetRank => ({
    ...ranks[i]!,
    exchange: <T>(mine: T) => new Promise<T>((resolve) => {
      const other = slots[1 - i];
      if (other !== undefined) {
        slots[1 - i] = undefined;
        other.resolve(mine);
        resolve(other.data as T);
      } else {
        slots[i] = { data: mine, resolve: resolve as (v: unknown) => void };
      }
    }),
    waitOne: async (): Promise<Completion> => {
      for (let turn = 0; turn < 10_000; turn++) {
        const cs = ranks[i]!.cq.poll(1);
        if (cs.length === 1) return cs[0]!;
        await new Promise((res) => setImmediate(res)); // let the other rank run
      }
      throw new Error(`in-process rank ${i}: no completion after 10000 turns`);
    },
  });
  const [a, b] = scenarios[scenario]!;
  return Promise.all([a(env(0)), b(env(1))]);
}

export interface NodeProcess {
  child: ChildProcess;
  /** Messages of `type` received so far, in order. */
  seen: (type: string) => Array<Record<string, any>>;
  next: (type: string, what: string) => Promise<Record<string, any>>;
}

const nodeScript = fileURLToPath(new URL('./workers/net-node.ts', import.meta.url));

/** Fork node `nodeId` running `role` of `scenario`. */
export function startNode(nodeId: number, kind: AdapterKind, token: string, scenario: string, role: number,
  limits?: Record<string, number>): NodeProcess {
  const child = fork(nodeScript, [JSON.stringify({ nodeId, kind, token, scenario, role, limits })], {
    execArgv: ['--import', 'tsx', '--conditions=source'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const got: Array<Record<string, any>> = [];
  const waiters: Array<{ type: string; resolve: (m: Record<string, any>) => void; fail: (e: Error) => void }> = [];
  let exited: string | undefined;
  child.on('message', (m: Record<string, any>) => {
    got.push(m);
    if (m.type === 'rank-error') for (const w of waiters.splice(0)) w.fail(new Error(`node ${nodeId}'s rank failed: ${m.message}`));
    for (const w of waiters.filter((x) => x.type === m.type)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  child.on('exit', (code, signal) => (exited = `exited (${signal ?? code})`));
  const consumed = new Map<string, number>();
  return {
    child,
    seen: (type) => got.filter((m) => m.type === type),
    next: (type, what) => new Promise((resolve, reject) => {
      const n = consumed.get(type) ?? 0;
      const have = got.filter((m) => m.type === type);
      const take = (m: Record<string, any>): void => {
        consumed.set(type, n + 1);
        resolve(m);
      };
      if (have.length > n) return take(have[n]!);
      const rankError = got.find((m) => m.type === 'rank-error');
      if (rankError !== undefined) return reject(new Error(`node ${nodeId}'s rank failed: ${rankError.message}`));
      const timer = setTimeout(() => reject(new Error(`node ${nodeId}: no ${what} within ${WAIT_MS} ms${exited ? `; it ${exited}` : ''}`)), WAIT_MS);
      waiters.push({ type, resolve: (m) => { clearTimeout(timer); take(m); }, fail: (e) => { clearTimeout(timer); reject(e); } });
    }),
  };
}

/** Start two nodes, give each the other's address, relay their exchanges. */
export async function startPair(kind: AdapterKind, scenario: string, limits: Array<Record<string, number> | undefined> = []):
  Promise<{ nodes: NodeProcess[]; token: string; addresses: string[] }> {
  const token = randomBytes(16).toString('hex');
  const nodes = [0, 1].map((id) => startNode(id, kind, token, scenario, id, limits[id]));
  try {
    const addresses = await Promise.all(nodes.map(async (n, i) => (await n.next('address', `listen address of node ${i}`)).address as string));
    const peers = addresses.map((address, nodeId) => ({ nodeId, address }));
    for (const n of nodes) n.child.send({ type: 'peers', peers });
    for (const [i, n] of nodes.entries()) n.child.on('message', (m: { type: string }) => {
      if (m.type === 'exchange') nodes[1 - i]!.child.send(m);
    });
    return { nodes, token, addresses };
  } catch (e) {
    stop(nodes);
    throw e;
  }
}

export async function overNetwork(kind: AdapterKind, scenario: string): Promise<{ results: Record<string, unknown>[]; errors: unknown[] }> {
  const { nodes } = await startPair(kind, scenario);
  try {
    const results = await Promise.all(nodes.map(async (n, i) => (await n.next('result', `result of node ${i}'s rank`)).result));
    return { results, errors: nodes.flatMap((n) => n.seen('net-error')) };
  } finally {
    stop(nodes);
  }
}

export function stop(nodes: NodeProcess[]): void {
  for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
}
