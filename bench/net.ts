/**
 * Wall-clock speed of @tsmpi/fabric's network wire between two node processes on loopback, against
 * raw node:net TCP between two processes measured in the same run.
 *
 *   npx tsx --conditions=source bench/net.ts [--runs 5] [--poll-us 0] [--spin-us 50]
 *
 * - Latency: 8 B one-way = half the round trip of a ping-pong. Wire: rank threads of two node
 *   processes postSend 8 B and spin on their CQs; each send crosses the rank's outbox, the node's
 *   network thread, TCP, the far network thread (which delivers it into the posted receive) and the
 *   far rank's CQ. Raw: an 8 B write echoed by a server process.
 * - Bandwidth: 64 × 1 MiB, a window of 8 in flight. Wire: rdmaWrite from one rank into the other
 *   node's registered buffer. Raw: 64 writes of a 1 MiB Buffer to a server process that counts
 *   the bytes and answers one byte at the end.
 * Runs alternate, raw then wire, so both see the same load. Each figure: min / median / max over
 * the runs; the ratios compare medians, and the paired ratio is each run's wire ÷ its raw. Targets: latency
 * ≤ 1.5 × raw, bandwidth ≥ 60 % of raw. --poll-us is the network thread's polling window
 * (ListenOptions.pollUs); --spin-us how long a rank spins on its CQ before it sleeps in cq.wait
 * (as the MPI engine's adaptive spin does).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { createServer, connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { AddressSpace, PhysicalMemory } from '@tsmpi/vm';
import { Access, Adapter, NetworkWire, VirtualClock, createAdapter, type NetworkWireHandle } from '@tsmpi/fabric';
import { MiB } from './timing.js';

const PINGS = 2000;
const WARMUP = 200;
const BLOCKS = 64;
const WINDOW = 8;
const self = fileURLToPath(import.meta.url);
// Rank threads share the process's argv: the thread decides first.
const role = !isMainThread ? 'rank' : ['raw-server', 'node'].includes(process.argv[2]!) ? process.argv[2] : 'main';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits: number): string =>
  `${Math.min(...xs).toFixed(digits)} / ${median(xs).toFixed(digits)} / ${Math.max(...xs).toFixed(digits)}`;
const now = (): number => Number(process.hrtime.bigint()) / 1e3; // µs

// ------------------------------------------------------------------ raw TCP, server side

function rawServer(): void {
  const server = createServer((s) => {
    s.setNoDelay(true);
    let mode: 'echo' | 'count' = 'echo';
    let counted = 0;
    s.on('data', (d: Buffer) => {
      if (mode === 'echo') {
        if (d.length === 1 && d[0] === 0xff) { mode = 'count'; counted = 0; s.write(d); return; } // switch to the stream test
        s.write(d);
        return;
      }
      counted += d.length;
      if (counted >= BLOCKS * MiB) { s.write(Buffer.from([1])); mode = 'echo'; }
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
}

async function rawClient(port: number): Promise<{ run(): Promise<{ lat: number; bw: number }>; close(): void }> {
  const s: Socket = connect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  await new Promise((r) => s.once('connect', r));
  const ping = Buffer.alloc(8);
  const block = Buffer.alloc(MiB, 7);
  const run = async (): Promise<{ lat: number; bw: number }> => {
    const lat = await new Promise<number>((resolve) => {
      let n = 0;
      let t0 = 0;
      const on = (): void => {
        n++;
        if (n === WARMUP) t0 = now();
        if (n === WARMUP + PINGS) { s.off('data', on); resolve((now() - t0) / PINGS / 2); return; }
        s.write(ping);
      };
      s.on('data', on);
      s.write(ping);
    });
    await new Promise((r) => { s.once('data', r); s.write(Buffer.from([0xff])); });
    const bw = await new Promise<number>((resolve) => {
      const t0 = now();
      s.once('data', () => resolve((BLOCKS * MiB) / (now() - t0))); // bytes per µs = MB/s
      for (let i = 0; i < BLOCKS; i++) s.write(block);
    });
    return { lat, bw };
  };
  return { run, close: () => s.destroy() };
}

// ------------------------------------------------------------------ the wire: node processes

async function nodeProcess(): Promise<void> {
  const { nodeId, token, runs, pollUs, spinUs } = JSON.parse(process.argv[3]!) as
    { nodeId: number; token: string; runs: number; pollUs: number; spinUs: number };
  const memory = new PhysicalMemory({ bytes: 64 * MiB });
  const adapter = createAdapter('pinning', { memory, nodeId });
  const wire = await NetworkWire.listen({ adapter, host: '127.0.0.1', token, pollUs });
  process.send!({ type: 'address', address: wire.address });
  let rank: Worker | undefined;
  process.on('message', (m: { type: string; peers?: { nodeId: number; address: string }[] }) => {
    if (m.type === 'peers') {
      wire.connectPeers(m.peers!);
      // tsx with the `source` condition inside the worker, then this file as the rank.
      const boot = `const { register } = require('node:module'); import('tsx/esm/api').then(async ({ register: tsx }) => {
        tsx(); register('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, n) { return n(s, { ...c, conditions: [...c.conditions, "source"] }); }'));
        await import(${JSON.stringify(new URL(import.meta.url).href)}); });`;
      rank = new Worker(boot, { eval: true, workerData: { memory: memory.handle, adapter: adapter.handle, wire: wire.handle, nodeId, runs, spinUs } });
      rank.on('message', (x) => process.send!(x));
      rank.on('error', (e) => process.send!({ type: 'error', message: String(e?.stack ?? e) }));
    } else if (m.type === 'exchange' || m.type === 'go') {
      rank?.postMessage(m);
    }
  });
}

async function rankThread(): Promise<void> {
  const d = workerData as { memory: never; adapter: never; wire: NetworkWireHandle; nodeId: number; runs: number; spinUs: number };
  const port = parentPort!;
  const memory = PhysicalMemory.attach(d.memory);
  const adapter = Adapter.attach(d.adapter, memory);
  const space = new AddressSpace(memory, { memlockLimit: Infinity });
  const pd = adapter.openDomain(space, new VirtualClock(), { wire: NetworkWire.attach(d.wire, adapter) });
  const cq = pd.createCompletionQueue({ depth: 4096 });
  const qp = pd.createQueuePair({ sendCq: cq, recvCq: cq, recvDepth: 1024 });
  const inbox: unknown[] = [];
  const waiting: Array<(v: unknown) => void> = [];
  let go: (() => void) | undefined;
  port.on('message', (m: { type: string; data: unknown }) => {
    if (m.type === 'go') return go!();
    if (waiting.length > 0) waiting.shift()!(m.data);
    else inbox.push(m.data);
  });
  const exchange = <T>(mine: unknown): Promise<T> => {
    port.postMessage({ type: 'exchange', data: mine });
    return new Promise<T>((resolve) => (inbox.length > 0 ? resolve(inbox.shift() as T) : waiting.push(resolve as (v: unknown) => void)));
  };
  const buf = space.mmap(BLOCKS * MiB, { populate: true });
  const mr = pd.registerMemory(buf, BLOCKS * MiB, Access.LOCAL_WRITE | Access.REMOTE_WRITE);
  qp.connect(await exchange({ ...qp.address, space: null }));
  const far = await exchange<{ addr: number; rkey: number }>({ addr: buf, rkey: mr.rkey });
  const pinger = d.nodeId === 0;
  // Spin on the CQ for spinUs, then sleep on its doorbell.
  const nextCompletion = (opcode: number): number => {
    let found = 0;
    for (let t0 = now(); found === 0;) {
      const seen = cq.doorbell;
      for (const c of cq.poll(16)) if (c.opcode === opcode) found++;
      if (found === 0 && now() - t0 > d.spinUs) cq.wait(seen, 10);
    }
    return found;
  };
  const nextRecv = (): void => void nextCompletion(128);
  const recvSlot = { lkey: mr.lkey, addr: buf, length: 8 };
  for (let i = 0; i < 1024; i++) qp.postRecv({ wrId: i, sge: recvSlot });
  for (let r = 0; r < d.runs; r++) {
    await new Promise<void>((resolve) => { go = resolve; port.postMessage({ type: 'waiting' }); });
    await exchange('ready');
    let t0 = 0;
    for (let i = 0; i < WARMUP + PINGS; i++) {
      if (i === WARMUP) t0 = now();
      if (pinger) {
        qp.postSend({ wrId: i, sge: recvSlot, signaled: false });
        nextRecv();
      } else {
        nextRecv();
        qp.postSend({ wrId: i, sge: recvSlot, signaled: false });
      }
      qp.postRecv({ wrId: i, sge: recvSlot });
    }
    const lat = (now() - t0) / PINGS / 2;
    await exchange('pinged');
    if (!pinger) continue;
    const start = now();
    let posted = 0;
    let done = 0;
    while (done < BLOCKS) {
      while (posted < BLOCKS && posted - done < WINDOW) {
        qp.rdmaWrite({ wrId: posted, sge: { lkey: mr.lkey, addr: buf + posted * MiB, length: MiB }, remoteAddr: far.addr + posted * MiB, rkey: far.rkey });
        posted++;
      }
      done += nextCompletion(1);
    }
    port.postMessage({ type: 'result', lat, bw: (BLOCKS * MiB) / (now() - start) });
  }
}

// ------------------------------------------------------------------ orchestration

function child(args: string[]): { p: ChildProcess; next: (type?: string) => Promise<any> } {
  const p = fork(self, args, { execArgv: ['--import', 'tsx', '--conditions=source'] });
  const got: any[] = [];
  const waiters: Array<{ type: string | undefined; resolve: (m: any) => void }> = [];
  p.on('message', (m: any) => {
    if (m?.type === 'error') { console.error(m.message); process.exit(1); }
    const w = waiters.findIndex((x) => x.type === undefined || x.type === m.type);
    if (w >= 0) waiters.splice(w, 1)[0]!.resolve(m);
    else got.push(m);
  });
  const next = (type?: string): Promise<any> => new Promise((resolve) => {
    const i = got.findIndex((m) => type === undefined || m.type === type);
    if (i >= 0) resolve(got.splice(i, 1)[0]);
    else waiters.push({ type, resolve });
  });
  return { p, next };
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Math.max(3, Number(process.argv[runsArg + 1])) : 5;
  const flag = (name: string, dflt: number): number => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const pollUs = flag('--poll-us', 0);
  const spinUs = flag('--spin-us', 50);
  const server = child(['raw-server']);
  const { port } = await server.next();
  const client = await rawClient(port);

  const token = randomBytes(16).toString('hex');
  const nodes = [0, 1].map((nodeId) => child(['node', JSON.stringify({ nodeId, token, runs, pollUs, spinUs })]));
  const addresses = await Promise.all(nodes.map(async (n) => (await n.next('address')).address as string));
  for (const [i, n] of nodes.entries()) {
    n.p.on('message', (m: any) => { if (m.type === 'exchange') nodes[1 - i]!.p.send(m); });
    n.p.send({ type: 'peers', peers: addresses.map((address, nodeId) => ({ nodeId, address })) });
  }
  const raw = { lat: [] as number[], bw: [] as number[] };
  const wire = { lat: [] as number[], bw: [] as number[] };
  for (let r = 0; r < runs; r++) {
    const a = await client.run();
    raw.lat.push(a.lat);
    raw.bw.push(a.bw);
    await Promise.all(nodes.map((n) => n.next('waiting')));
    for (const n of nodes) n.p.send({ type: 'go' });
    const b = await nodes[0]!.next('result');
    wire.lat.push(b.lat);
    wire.bw.push(b.bw);
  }
  client.close();
  server.p.kill();
  for (const n of nodes) n.p.kill();

  const latRatio = median(wire.lat) / median(raw.lat);
  const bwRatio = median(wire.bw) / median(raw.bw);
  const paired = (w: number[], r: number[], scale: number, digits: number): string => spread(w.map((x, i) => (x / r[i]!) * scale), digits);
  console.log(`network wire vs raw node:net TCP, loopback, two processes each (min / median / max of ${runs} runs; ` +
    `network thread polls ${pollUs} µs, ranks spin ${spinUs} µs)`);
  console.log(`  8 B one-way latency   raw ${spread(raw.lat, 1)} µs   wire ${spread(wire.lat, 1)} µs   ` +
    `wire/raw ${latRatio.toFixed(2)} (target ≤ 1.5; paired ${paired(wire.lat, raw.lat, 1, 2)})`);
  console.log(`  1 MiB bandwidth       raw ${spread(raw.bw, 0)} MB/s   wire ${spread(wire.bw, 0)} MB/s   ` +
    `wire/raw ${(bwRatio * 100).toFixed(0)} % (target ≥ 60 %; paired ${paired(wire.bw, raw.bw, 100, 0)} %)`);
  console.log(`  load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

if (role === 'main') await main();
else if (role === 'raw-server') rawServer();
else if (role === 'node') await nodeProcess();
else await rankThread();
