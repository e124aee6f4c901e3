import { InvalidArgument } from '../errors.js';
import type { Connection } from './connection.js';
import type { FrameReader } from './frames.js';

type Serve = (c: Connection, f: FrameReader, payload: Uint8Array[]) => void;

/**
 * Debugging exact timing across processes: TSMPI_NET_DELAY_MS=MAX holds every frame a node
 * receives for a random 0..MAX wall ms before its network thread serves it, each connection's frames
 * still in their order (a TCP stream is FIFO). Arrival order between the node's channels and its rank
 * threads then varies widely from run to run, which virtual time must not see; without the variable
 * frames are served as they come. The randomness is wall-clock only, so it is Math.random's.
 */
export function inboundDelay(env: NodeJS.ProcessEnv, serve: Serve): Serve {
  const raw = env.TSMPI_NET_DELAY_MS;
  const max = Number(raw ?? 0);
  if (!Number.isFinite(max) || max < 0) {
    throw new InvalidArgument(`TSMPI_NET_DELAY_MS must be a number of milliseconds ≥ 0, got '${raw}': unset it, or set e.g. TSMPI_NET_DELAY_MS=2`);
  }
  if (max === 0) return serve;
  const queues = new Map<Connection, Array<[FrameReader, Uint8Array[]]>>();
  const next = (c: Connection): void => {
    setTimeout(() => {
      const q = queues.get(c)!;
      const [f, payload] = q.shift()!;
      serve(c, f, payload);
      if (q.length > 0) next(c);
      else queues.delete(c);
    }, Math.random() * max);
  };
  return (c, f, payload) => {
    let q = queues.get(c);
    if (q === undefined) queues.set(c, (q = []));
    q.push([f, payload]);
    if (q.length === 1) next(c);
  };
}
