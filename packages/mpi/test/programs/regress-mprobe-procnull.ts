// Issue 15.3: mprobe/improbe with PROC_NULL return the no-proc message (MPI-3.1 §3.8.2: source
// PROC_NULL, tag ANY_TAG, count 0), and receiving it (buffer or object) completes at once.
import { ANY_TAG, PROC_NULL, init } from '@tsmpi/mpi';

const world = init();
const out: Record<string, unknown> = {};
const fields = (m: { source: number; tag: number; byteCount: number } | undefined) => m && { source: m.source, tag: m.tag, byteCount: m.byteCount };
const buf = world.alloc(Int32Array, 4);
buf.set([1, 2, 3, 4]);

const m = world.mprobe(PROC_NULL, 3);
out.mprobe = fields(m);
out.mrecv = m.recv(buf);
out.untouched = Array.from(buf.toArray());
const im = world.improbe(PROC_NULL, ANY_TAG);
out.improbe = fields(im);
out.mrecvObject = im === undefined ? 'no message' : String(im.recvObject());
const before = world.stats().messages.procNullOps;
const m2 = world.mprobe(PROC_NULL);
const r = m2.irecv(buf);
out.irecvDoneAtOnce = r.test() !== undefined;
out.procNullOps = world.stats().messages.procNullOps - before;
out.constants = { PROC_NULL, ANY_TAG };

export function main() {
  return out;
}
