import { Arena, ARENA_HEADER_CELLS } from '../shared/arena.js';
import { DEFAULT_INTRANODE_LIMITS, type IntranodeLimits } from './types.js';

/**
 * The node's intra-node driver state, all in SharedArrayBuffers so every rank's thread sees it:
 *
 *   header   Int32  [LOCK]                                  table lock (segments, attachments, rings, processes)
 *   procs    Int32  per pid: [STATE, JOB, BELL, MARK_LOCK]  STATE/JOB under LOCK by open()/exit; BELL is the
 *                                                           process's doorbell: bumped (and notified) by a
 *                                                           ring push to it or a pop of its ring, waited on
 *                                                           by a process with nothing else to do; MARK_LOCK
 *                                                           guards its entry in marks
 *   marks    F64    per pid: the watermark of the rings into it (shm-ring.ts), Infinity when empty
 *   rings    Int32  per (from, to): arena word + 1, 0 = none created lazily under LOCK
 *   segs     F64    per segment slot: SEG_*                  written under LOCK by the exporter
 *   atts     F64    per attachment slot: ATT_*               written under LOCK by the importer
 *   attCells Int32  per attachment: [A_LOCK, A_STATE]        A_LOCK guards its page entries and state:
 *                                                           the importer's copy holds it (as a DMA holds
 *                                                           an MR lock), the exporter's zap takes it
 *   arena            rings and attachment page tables (fabric's shared arena)
 *
 * An attachment's page entries are Int32 in the arena: -1 empty, else frame × 2 + writable.
 */
export const LOCK = 0;
export const HEADER_CELLS = 4;

export const P_STATE = 0;
export const P_JOB = 1;
export const P_BELL = 2;
export const P_MARK_LOCK = 3;
export const PROC_STRIDE = 4;
export const ProcState = { FREE: 0, OPEN: 1, EXITED: 2 } as const;

export const SEG_STATE = 0;
export const SEG_GEN = 1;
export const SEG_OWNER = 2;
export const SEG_PERM = 3; // 1 read, 3 read-write
export const SEG_START = 4;
export const SEG_LENGTH = 5;
export const SEG_STRIDE = 8;
export const SegState = { FREE: 0, LIVE: 1 } as const;

export const ATT_SEG = 0;
export const ATT_SEG_GEN = 1;
export const ATT_IMPORTER = 2;
export const ATT_OFFSET = 3; // page-aligned offset into the segment
export const ATT_LENGTH = 4; // page multiple
export const ATT_PAGES_AT = 5; // arena word offset of the page entries
export const ATT_WRITABLE = 6;
export const ATT_STRIDE = 8;

export const A_LOCK = 0;
export const A_STATE = 1;
export const A_CELLS = 2;
export const AttState = { FREE: 0, LIVE: 1, DEAD: 2 } as const;

export const PAGE_EMPTY = -1;

export interface IntranodeHandle {
  kind: 'intranode';
  nodeId: number;
  pageSize: number;
  limits: IntranodeLimits;
  header: SharedArrayBuffer;
  procs: SharedArrayBuffer;
  marks: SharedArrayBuffer;
  rings: SharedArrayBuffer;
  segs: SharedArrayBuffer;
  atts: SharedArrayBuffer;
  attCells: SharedArrayBuffer;
  arenaHeader: SharedArrayBuffer;
  arena: SharedArrayBuffer;
}

/** Typed views over one node's intra-node state (one per thread). */
export class NodeState {
  readonly handle: IntranodeHandle;
  readonly limits: IntranodeLimits;
  readonly header: Int32Array;
  readonly procs: Int32Array;
  readonly marks: Float64Array;
  readonly rings: Int32Array;
  readonly segs: Float64Array;
  readonly atts: Float64Array;
  readonly attCells: Int32Array;
  readonly arena: Arena;
  readonly arenaBytes: Uint8Array;

  constructor(handle: IntranodeHandle, fresh: boolean) {
    this.handle = handle;
    this.limits = handle.limits;
    this.header = new Int32Array(handle.header);
    this.procs = new Int32Array(handle.procs);
    this.marks = new Float64Array(handle.marks);
    this.rings = new Int32Array(handle.rings);
    this.segs = new Float64Array(handle.segs);
    this.atts = new Float64Array(handle.atts);
    this.attCells = new Int32Array(handle.attCells);
    this.arena = new Arena(new Int32Array(handle.arenaHeader), handle.arena, fresh);
    this.arenaBytes = new Uint8Array(handle.arena);
  }

  static create(nodeId: number, pageSize: number, limits: Partial<IntranodeLimits>): NodeState {
    const l: IntranodeLimits = { ...DEFAULT_INTRANODE_LIMITS, ...limits };
    const handle: IntranodeHandle = {
      kind: 'intranode',
      nodeId,
      pageSize,
      limits: l,
      header: new SharedArrayBuffer(HEADER_CELLS * 4),
      procs: new SharedArrayBuffer(l.maxProcesses * PROC_STRIDE * 4),
      marks: new SharedArrayBuffer(l.maxProcesses * 8),
      rings: new SharedArrayBuffer(l.maxProcesses * l.maxProcesses * 4),
      segs: new SharedArrayBuffer(l.maxSegments * SEG_STRIDE * 8),
      atts: new SharedArrayBuffer(l.maxAttachments * ATT_STRIDE * 8),
      attCells: new SharedArrayBuffer(l.maxAttachments * A_CELLS * 4),
      arenaHeader: new SharedArrayBuffer(ARENA_HEADER_CELLS * 4),
      arena: new SharedArrayBuffer(l.arenaBytes),
    };
    new Float64Array(handle.marks).fill(Infinity);
    return new NodeState(handle, true);
  }
}
