// The PMI-1 and PMI-2 codecs on their own: the exact bytes Hydra and Slurm exchange, and typed errors
// for what no process manager would send.
import { describe, expect, it } from 'vitest';
import { PmiReader, decodeV1, decodeV2, encodeV1, encodeV2 } from '../src/launcher/pmi/wire.js';
import { PmiError } from '../src/errors.js';

describe('PMI-1 lines', () => {
  it('encode a put and decode a get_result', () => {
    expect(encodeV1({ cmd: 'put', attrs: { kvsname: 'kvs_7_0', key: 'addr-1', value: '10.0.0.2:4711' } }))
      .toBe('cmd=put kvsname=kvs_7_0 key=addr-1 value=10.0.0.2:4711\n');
    expect(decodeV1('cmd=get_result rc=0 value=a=b msg=success')).toEqual({ cmd: 'get_result', attrs: { rc: '0', value: 'a=b', msg: 'success' } });
  });

  it('refuse a value with a space and a line without cmd=', () => {
    expect(() => encodeV1({ cmd: 'put', attrs: { key: 'k', value: 'two words' } })).toThrow(PmiError);
    expect(() => decodeV1('rc=0 value=x')).toThrow(/no cmd=/);
    expect(() => decodeV1('cmd=put garbage')).toThrow(/not key=value/);
  });
});

describe('PMI-2 commands', () => {
  it('carry a 6-character length and double a ; inside a value', () => {
    const wire = encodeV2({ cmd: 'kvs-put', attrs: { key: 'k', value: 'a;b' } });
    expect(wire).toBe('    29cmd=kvs-put;key=k;value=a;;b;');
    expect(decodeV2(wire.slice(6))).toEqual({ cmd: 'kvs-put', attrs: { key: 'k', value: 'a;b' } });
    expect(decodeV2('cmd=kvs-get-response;found=TRUE;value=;rc=0;')).toEqual({ cmd: 'kvs-get-response', attrs: { found: 'TRUE', value: '', rc: '0' } });
  });

  it('a reader switches from the PMI-1 handshake to length-prefixed frames split anywhere', () => {
    const r = new PmiReader('v1');
    r.push('cmd=response_to_init pmi_version=2 pmi_subversion=0 rc=0\n    3');
    expect(r.next()).toEqual({ cmd: 'response_to_init', attrs: { pmi_version: '2', pmi_subversion: '0', rc: '0' } });
    r.framing = 'v2';
    r.push('6cmd=fullinit-response;rank=1;size=');
    expect(r.next()).toBeUndefined();
    r.push('2;');
    expect(r.next()).toEqual({ cmd: 'fullinit-response', attrs: { rank: '1', size: '2' } });
  });

  it('a garbage length prefix is a PmiError', () => {
    const r = new PmiReader('v2');
    r.push('GARBAGEcmd=x;');
    expect(() => r.next()).toThrow(PmiError);
  });
});

describe('PMI-2 as Slurm speaks it (srun --mpi=pmi2)', () => {
  it('a left-justified length prefix reads like a right-justified one', () => {
    const r = new PmiReader('v2');
    r.push('29    cmd=kvs-put;key=k;value=a;;b;');
    expect(r.next()).toEqual({ cmd: 'kvs-put', attrs: { key: 'k', value: 'a;b' } });
  });

  it('fullinit carries pmijobid from PMI_JOBID, which Slurm requires', async () => {
    const { createServer } = await import('node:net');
    const { connectPmi } = await import('../src/launcher/pmi/client.js');
    const seen: string[] = [];
    // Slurm's side of the exchange, as its pmi2 plugin answers: it refuses a fullinit without pmijobid.
    const server = createServer((s) => {
      const r = new PmiReader('v1');
      s.on('data', (d) => {
        r.push(d.toString());
        for (let c = r.next(); c; c = r.next()) {
          seen.push(c.cmd);
          if (c.cmd === 'init') {
            s.write('cmd=response_to_init pmi_version=2 pmi_subversion=0 rc=0\n');
            r.framing = 'v2';
          } else if (c.cmd === 'fullinit') {
            const ok = c.attrs.pmijobid === '7.0';
            s.write(encodeV2({ cmd: 'fullinit-response', attrs: ok ? { rc: '0', rank: '1', size: '2', appnum: '0', 'spawner-jobid': '7.0' } : { rc: '1', errmsg: 'pmijobid missing' } }));
          }
        }
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as { port: number }).port;
    try {
      const pmi = await connectPmi({ TSMPI_PMI: '2', PMI_PORT: `127.0.0.1:${port}`, PMI_RANK: '1', PMI_JOBID: '7.0' });
      expect([pmi.rank, pmi.size, pmi.version]).toEqual([1, 2, 2]);
      pmi.close();
      expect(seen).toEqual(['init', 'fullinit']);
    } finally {
      server.close();
    }
  });
});
