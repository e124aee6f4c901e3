import { TransferError } from '../../errors.js';
import type { Status } from '../../status.js';
import { asBufferError } from '../buffer-errors.js';
import { Flags, Kind, type Envelope } from '../envelope.js';
import { decodeObject } from '../object-codec.js';
import type { Arrival, Payload, RecvOp, Route, SendOp } from '../operations.js';
import type { Protocol, ProtocolHost, SingleCopyRoute } from '../protocol.js';
import { rtsArrival, sendFin, sendRts } from './rendezvous.js';

/**
 * Rendezvous between ranks of one node by a single-copy transport (issue 7): the RTS names the
 * sender's buffer (and, for xpmem, its segment id where an rkey would be); the receiver copies it
 * with one process_vm_readv (cma) or out of an attachment of the sender's segment (xpmem). No
 * registration on either side.
 */
export class RendezvousSingleCopyProtocol implements Protocol {
  readonly name = 'rendezvous-single-copy';
  private readonly flag: number;

  constructor(
    private readonly host: ProtocolHost,
    readonly route: SingleCopyRoute,
  ) {
    this.flag = route === 'cma' ? Flags.CMA : Flags.XPMEM;
  }

  accepts(env: Envelope): boolean {
    return env.kind === Kind.RTS && (env.flags & this.flag) !== 0;
  }

  send(route: Route, op: SendOp, payload: Payload): void {
    // the transport reads the buffer through the page tables: nothing to register
    sendRts(this.host, route, op, payload, () => ({ rkey: this.route === 'xpmem' ? this.host.segid : 0, flags: this.flag }));
  }

  onEnvelope(env: Envelope, _payload: Uint8Array, time: number, from: number): void {
    this.host.arrive(rtsArrival(this, env, time, from));
  }

  receive(recv: RecvOp, a: Arrival, status: Status, start: number): void {
    const { device, heap, costs, space } = this.host.env;
    device.set(start);
    device.advance(costs.overheadUs);
    const temp = recv.target === 'object' ? heap.malloc(a.length) : undefined;
    const landing = temp ?? (recv.target as { addr: number }).addr;
    const fail = (e: unknown): void => {
      if (temp !== undefined) heap.free(temp);
      const code = (e as { code?: string }).code ?? 'EFAULT';
      recv.req.fail(
        code === 'SEGV'
          ? asBufferError(e, 'receive buffer')
          : new TransferError(code, `${this.route} read of ${a.length} bytes from rank ${a.source} failed: ${(e as Error).message}`),
        device.now, status,
      );
      sendFin(this.host, a, code === 'SEGV' ? Flags.ERROR | Flags.RECEIVER : Flags.ERROR, device.now);
    };
    try {
      // the landing first: a copy that fails part-way cannot say whose side was bad (process_vm_readv's EFAULT)
      space.runs(landing, a.length, 'write');
    } catch (e) {
      fail(e);
      return;
    }
    this.host.postSingleCopy(this.route, a.fromWorld, landing, a.addr!, a.length, a.rkey!, (e) => {
      if (e !== undefined) {
        fail(e);
        return;
      }
      if (temp !== undefined) {
        decodeObject(recv.req, space.read(temp, a.length), status, device.now);
        heap.free(temp);
      }
      const done = device.now;
      sendFin(this.host, a, 0, done);
      recv.req.complete(status, done);
    });
  }

  drop(a: Arrival, start: number): void {
    sendFin(this.host, a, 0, start);
  }
}
