import { Packr } from 'msgpackr';
import { InvalidObjectMessage } from '../errors.js';
import type { Request } from '../request.js';
import type { Status } from '../status.js';

/**
 * Object messages (sendObject / recvObject) are msgpack bytes. The envelope carries their exact
 * length and the receiver sizes its landing buffer from it, so an object receive never truncates
 * (mpi4py's most reported pitfall with irecv's fixed default buffer).
 */
const packr = new Packr({ structuredClone: true, useRecords: false, moreTypes: true });

export function packObject(value: unknown): Uint8Array {
  return packr.pack(value);
}

/**
 * Decodes an object receive's bytes into its request. Bytes that are not msgpack (a buffer message,
 * or corrupted data) fail that request at `time` with InvalidObjectMessage: decoding runs inside
 * progress, where a throw would kill the rank whatever it waits on and skip the sender's FIN.
 * The caller still lets go of what the message holds and answers the sender; completing the
 * request afterwards is a no-op when it failed.
 */
export function decodeObject(req: Request, bytes: Uint8Array, status: Status, time: number): void {
  try {
    req.objectValue = packr.unpack(bytes);
  } catch (e) {
    req.fail(new InvalidObjectMessage(status.source, status.tag, bytes.length, e), time, status);
  }
}
