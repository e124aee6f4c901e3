// Node 0's control server and the checks of wire-up, over real loopback sockets: a connection without
// the job's token, with garbage frames or an impossible length is closed with a warning naming where it
// came from (the job goes on); a node with the token is welcomed; nodes that disagree are refused.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { ControlHub, joinControl } from '../src/launcher/procs/control.js';
import { FrameReader, encodeFrame } from '../src/launcher/procs/frames.js';
import { checkSameJob, type JobIdentity } from '../src/launcher/procs/identity.js';
import { UsageError, WireUpError } from '../src/errors.js';
import { listenAddress } from '../src/launcher/procs/address.js';

const TOKEN = 'a'.repeat(48);
let hub: ControlHub | undefined;
afterEach(() => {
  hub?.stopListening();
  for (const l of hub?.links.values() ?? []) l.close(undefined);
});

async function openHub(nodes = 2): Promise<{ hub: ControlHub; warnings: string[]; address: string }> {
  const warnings: string[] = [];
  hub = new ControlHub(nodes, TOKEN, 'job-hash', (s) => warnings.push(s));
  const address = await hub.listen('127.0.0.1');
  return { hub, warnings, address };
}

function raw(address: string, bytes: Buffer): Promise<{ closed: boolean; received: number }> {
  const [host, port] = address.split(':');
  return new Promise((done) => {
    const s: Socket = connect({ host: host!, port: Number(port) }, () => s.write(bytes));
    let received = 0;
    s.on('data', (d) => (received += d.length));
    s.on('error', () => {});
    s.on('close', () => done({ closed: true, received }));
  });
}

describe('node 0 control server', () => {
  it('closes a connection that presents the wrong token and says so; the right one is welcomed', async () => {
    const { hub, warnings, address } = await openHub();
    const bad = await raw(address, encodeFrame({ t: 'hello', token: 'b'.repeat(48), node: 1, job: 'job-hash' }));
    expect(bad).toEqual({ closed: true, received: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^tsmpi: node 0 refused the connection from 127\.0\.0\.1:\d+: it did not present this job's token$/);
    expect(hub.links.size).toBe(0);
    const link = await joinControl(address, TOKEN, 1, 'job-hash');
    await hub.joined(5000);
    expect([...hub.links.keys()]).toEqual([1]);
    link.close(undefined);
  });

  it('closes a connection sending garbage or an impossible length, naming the peer; no crash', async () => {
    const { hub, warnings, address } = await openHub();
    await raw(address, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const notMsgpack = Buffer.from([0, 0, 0, 2, 0xc1, 0xc1]);
    await raw(address, notMsgpack);
    await raw(address, encodeFrame({ t: 'launch', token: TOKEN }));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/the connection from 127\.0\.0\.1:\d+ sent a frame of 1195725856 bytes \(limit 67108864\)/);
    expect(warnings[1]).toMatch(/the connection from 127\.0\.0\.1:\d+ sent a frame that does not decode/);
    expect(warnings[2]).toMatch(/sent a control message of unknown type "launch"/);
    expect(hub.links.size).toBe(0);
  });

  it('refuses a second claim on a node that already joined, and a job with another hash', async () => {
    const { hub, warnings, address } = await openHub(3);
    const one = await joinControl(address, TOKEN, 1, 'job-hash');
    await expect(joinControl(address, TOKEN, 1, 'job-hash')).rejects.toThrow(WireUpError);
    await expect(joinControl(address, TOKEN, 2, 'other-job')).rejects.toThrow(/token or the job differ/);
    expect(warnings.map((w) => w.replace(/:\d+:/, ':PORT:'))).toEqual([
      'tsmpi: node 0 refused the connection from 127.0.0.1:PORT: it claims node 1, which is not a missing node of this job',
      'tsmpi: node 0 refused the connection from 127.0.0.1:PORT: it claims node 2, which is not a missing node of this job',
    ]);
    expect([...hub.links.keys()]).toEqual([1]);
    one.close(undefined);
  });
});

describe('control frames', () => {
  it('reassemble across any split and keep payload-free control data intact', () => {
    const r = new FrameReader(() => 'node 1');
    const bytes = Buffer.concat([encodeFrame({ t: 'go' }), encodeFrame({ t: 'end', exitCode: 3 })]);
    for (let i = 0; i < bytes.length; i++) r.push(bytes.subarray(i, i + 1));
    expect([r.next(), r.next(), r.next()]).toEqual([{ t: 'go' }, { t: 'end', exitCode: 3 }, undefined]);
  });
});

describe('nodes that disagree', () => {
  const base: JobIdentity = { np: 8, nodes: 2, program: 'ring.ts', programHash: '0123456789abcdef', args: [], options: { fabric: 'pinning', eagerThreshold: 12288 } };
  it('are refused with every difference named', () => {
    const other = { ...base, np: 4, options: { fabric: 'odp', eagerThreshold: 12288 } };
    expect(() => checkSameJob(base, other, 1)).toThrow(
      'the job\'s node processes disagree, refusing to start: node 1 differs from node 0 in -n 8 vs 4; fabric "pinning" vs "odp". ' +
        'Start every node with the same -n, program, arguments, flags and TSMPI_* variables.',
    );
    expect(() => checkSameJob(base, { ...base }, 1)).not.toThrow();
  });
});

describe('the address a node listens on', () => {
  it('--iface takes an interface name or an address; every node on this host means 127.0.0.1', async () => {
    expect(await listenAddress('lo', {})).toBe('127.0.0.1');
    expect(await listenAddress('10.1.2.3', {})).toBe('10.1.2.3');
    expect(await listenAddress(undefined, { TSMPI_IFACE: 'lo' })).toBe('127.0.0.1');
    expect(await listenAddress(undefined, { TSMPI_LOCAL_JOB: '1' })).toBe('127.0.0.1');
    expect(await listenAddress(undefined, { PMI_SIZE: '3', MPI_LOCALNRANKS: '3' })).toBe('127.0.0.1'); // Hydra, one host
    expect(await listenAddress(undefined, { SLURM_NNODES: '1' })).toBe('127.0.0.1');
  });

  it('an unknown interface is a usage error that lists the ones this host has', async () => {
    const e = await listenAddress('nosuch0', {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(/^--iface nosuch0: no such interface with an IPv4 address; this host has .*lo \(127\.0\.0\.1\)/);
  });
});
