// A node process of the network-wire tests (forked by net-harness.ts): this process's main thread
// is the node's network thread; its one rank runs in a worker (workers/net-rank.ts). Messages to
// and from the test go through the IPC channel: address, peers, exchange, result, net-error.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { PhysicalMemory } from '@tsmpi/vm';
import { NetworkWire, createAdapter, type AdapterKind } from '@tsmpi/fabric';

interface Args {
  nodeId: number;
  kind: AdapterKind;
  token: string;
  scenario: string;
  role: number;
  /** The adapter's table sizes (the fault tests shrink the arena). */
  limits?: Record<string, number>;
}

const args = JSON.parse(process.argv[2]!) as Args;
const send = (m: object): void => void process.send!(m);
const memory = new PhysicalMemory({ bytes: 32 * 1024 * 1024 });
const adapter = createAdapter(args.kind, { memory, nodeId: args.nodeId, ...(args.limits ? { limits: args.limits } : {}) });
const wire = await NetworkWire.listen({
  adapter, host: '127.0.0.1', token: args.token,
  onError: (e) => send({ type: 'net-error', reason: e.reason, peer: e.peer, message: e.message }),
});
send({ type: 'address', address: wire.address });

let rank: Worker | undefined;
process.on('message', (m: { type: string; peers?: { nodeId: number; address: string }[] }) => {
  if (m.type === 'peers') {
    wire.connectPeers(m.peers!);
    rank = new Worker(fileURLToPath(new URL('./bootstrap.mjs', import.meta.url)), {
      workerData: { entry: new URL('./net-rank.ts', import.meta.url).href, memory: memory.handle, adapter: adapter.handle,
        wire: wire.handle, scenario: args.scenario, role: args.role },
    });
    rank.on('message', send);
    rank.on('error', (e) => send({ type: 'rank-error', message: String(e?.stack ?? e) }));
  } else if (m.type === 'exchange') {
    rank?.postMessage(m);
  } else if (m.type === 'close') {
    void rank?.terminate();
    void wire.close().then(() => process.exit(0));
  }
});
