// tsmpi's own PMI server (the one `tsmpi run --procs` serves its node processes) against the same
// client program that runs under Hydra: three processes over inherited PMI_FD sockets, both versions;
// and a process that breaks the protocol is cut off with an error naming it.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PmiServer } from '../src/launcher/pmi/server.js';
import type { PmiError } from '../src/errors.js';

const program = fileURLToPath(new URL('./programs/pmi-kvs.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

function runUnder(server: PmiServer, n: number, env: Record<string, string>, script = program): Promise<{ codes: number[]; out: string[] }> {
  const out: string[] = [];
  return Promise.all(Array.from({ length: n }, (_, k) => new Promise<number>((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
      env: { ...process.env, ...env, PMI_FD: '3', PMI_RANK: String(k), PMI_SIZE: String(n) },
    });
    server.attach(child.stdio[3] as Duplex, k);
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (text += s));
    child.on('exit', (code) => {
      out[k] = text.trim();
      done(code ?? -1);
    });
  }))).then((codes) => ({ codes, out }));
}

describe("tsmpi's PMI server", () => {
  for (const version of ['1', '2'] as const) {
    it(`PMI-${version}: 3 processes put, fence and get every key, the preput token too`, async () => {
      const server = new PmiServer(3, 'kvs_test');
      server.preput('k-0', 'v0:preput'); // overwritten by rank 0's own put
      const { codes, out } = await runUnder(server, 3, { TSMPI_PMI: version });
      server.close();
      expect(codes).toEqual([0, 0, 0]);
      expect(out.map((l) => JSON.parse(l))).toEqual([0, 1, 2].map((rank) => ({
        version: Number(version), rank, size: 3, appnum: 0, kvs: true, seen: ['v0', 'v1', 'v2'], missing: 'PmiError',
      })));
    });
  }

  it('a process that sends an unknown command is cut off, and the error names it', async () => {
    const errors: string[] = [];
    const server = new PmiServer(1, 'kvs_bad', { onProtocolError: (rank, e: PmiError) => errors.push(`${rank}: ${e.code} ${e.message}`) });
    const child = spawn(process.execPath, ['-e', "const s=new (require('net').Socket)({fd:3,readable:true,writable:true}); s.write('cmd=launch_missiles\\n'); s.on('close',()=>process.exit(7)); s.resume()"], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    });
    server.attach(child.stdio[3] as Duplex, 0);
    const code = await new Promise<number>((done) => child.on('exit', (c) => done(c ?? -1)));
    expect(code).toBe(7); // the server closed its socket
    expect(errors).toEqual(["0: TSMPI_PMI process 0 sent the unknown PMI command 'launch_missiles'"]);
  });
});
