import { MpiError } from '../errors.js';
import type { Envelope } from './envelope.js';
import type { ShmIncoming } from './intra.js';
import type { EnvelopeHandler } from './protocol.js';

/** An envelope that came early (its sender's earlier ones are still on their way). */
interface Stashed {
  env: Envelope;
  payload: Uint8Array;
  time: number;
  incoming: ShmIncoming | undefined;
}

/**
 * Non-overtaking: envelopes from one sender are handled in the order it sent them (its sequence
 * numbers), whichever path (adapter, ring) or virtual arrival time brought them, each by the
 * handler that accepts it (a protocol, or the FIN every rendezvous ends with).
 */
export class InOrderDelivery {
  private readonly nextSeqIn: number[];
  private readonly stash: Map<number, Stashed>[];

  constructor(size: number, private readonly handlers: readonly EnvelopeHandler[]) {
    this.nextSeqIn = new Array(size).fill(0);
    this.stash = Array.from({ length: size }, () => new Map());
  }

  deliver(env: Envelope, payload: Uint8Array, time: number, incoming: ShmIncoming | undefined): void {
    const from = env.from;
    const stash = this.stash[from]!;
    if (env.seq !== this.nextSeqIn[from]) {
      stash.set(env.seq, { env, payload, time, incoming });
      return;
    }
    this.handle(env, payload, time, from, incoming);
    this.nextSeqIn[from]!++;
    for (let next = stash.get(this.nextSeqIn[from]!); next; next = stash.get(this.nextSeqIn[from]!)) {
      stash.delete(this.nextSeqIn[from]!);
      this.handle(next.env, next.payload, next.time, from, next.incoming);
      this.nextSeqIn[from]!++;
    }
  }

  private handle(env: Envelope, payload: Uint8Array, time: number, from: number, incoming: ShmIncoming | undefined): void {
    for (const h of this.handlers) {
      if (h.accepts(env)) {
        h.onEnvelope(env, payload, time, from, incoming);
        return;
      }
    }
    throw new MpiError('MPI_ERR_INTERN', `an envelope of unknown kind ${env.kind} (flags ${env.flags}) from rank ${from}`);
  }
}
