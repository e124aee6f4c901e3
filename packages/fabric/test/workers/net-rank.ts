// The rank of a node process in the network-wire tests: opens its domain with the node's network
// wire, connects its QP to the other node's rank (addresses swapped through the test), runs its
// role of the scenario and posts what it saw. It never touches a socket.
import { parentPort, workerData } from 'node:worker_threads';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { Adapter, NetworkWire, VirtualClock, type Completion, type NetworkWireHandle, type QpAddress } from '@tsmpi/fabric';
import { scenarios, type NetRank } from '../net-scenarios.js';

const d = workerData as {
  memory: Parameters<typeof PhysicalMemory.attach>[0];
  adapter: Parameters<typeof Adapter.attach>[0];
  wire: NetworkWireHandle;
  scenario: string;
  role: number;
};
const port = parentPort!;
const memory = PhysicalMemory.attach(d.memory);
const adapter = Adapter.attach(d.adapter, memory);
const space = new AddressSpace(memory, { memlockLimit: Infinity });
const clock = new VirtualClock();
const pd = adapter.openDomain(space, clock, { wire: NetworkWire.attach(d.wire, adapter) });
const cq = pd.createCompletionQueue({ depth: 64 });
const qp = pd.createQueuePair({ sendCq: cq, recvCq: cq });

const inbox: unknown[] = [];
const waiting: Array<(v: unknown) => void> = [];
port.on('message', (m: { type: string; data: unknown }) => {
  if (m.type !== 'exchange') return;
  if (waiting.length > 0) waiting.shift()!(m.data);
  else inbox.push(m.data);
});

const r: NetRank = {
  space, pd, cq, qp, clock,
  exchange: <T>(mine: T) => {
    port.postMessage({ type: 'exchange', data: mine });
    return new Promise<T>((resolve) => (inbox.length > 0 ? resolve(inbox.shift() as T) : waiting.push(resolve as (v: unknown) => void)));
  },
  waitOne: async (): Promise<Completion> => {
    for (const until = Date.now() + 10_000; Date.now() < until;) {
      const seen = cq.doorbell;
      const cs = cq.poll(1);
      if (cs.length === 1) return cs[0]!;
      cq.wait(seen, 20);
    }
    throw new Error(`rank of node ${adapter.nodeId}: no completion within 10 s`);
  },
};

// A remote peer's page table stays in its process: the address crosses without it.
const peer = await r.exchange<QpAddress>({ ...qp.address, space: null });
qp.connect(peer);
const result = await scenarios[d.scenario]![d.role]!(r);
port.postMessage({ type: 'result', result });
