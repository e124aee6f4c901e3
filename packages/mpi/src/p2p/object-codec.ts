import { Packr } from 'msgpackr';

/**
 * Object messages (sendObject / recvObject) are msgpack bytes. The envelope carries their exact
 * length and the receiver sizes its landing buffer from it, so an object receive never truncates
 * (mpi4py's most reported pitfall with irecv's fixed default buffer).
 */
const packr = new Packr({ structuredClone: true, useRecords: false, moreTypes: true });

export function packObject(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function unpackObject(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
