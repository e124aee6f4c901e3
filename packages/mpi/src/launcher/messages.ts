import type { RankStats } from '../stats.js';
import type { RankTrace } from '../trace/events.js';

/** Serialised error crossing from a rank to the launcher. */
export interface ErrorReport {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** What a rank's thread posts to the launcher (setup and end of life only; never used for progress). */
export type RankToLauncher =
  | { type: 'ready'; rank: number; endpoint: unknown }
  | { type: 'connected'; rank: number }
  | { type: 'done'; rank: number; value: unknown; stats: RankStats; wtime: number; trace?: RankTrace }
  | { type: 'failed'; rank: number; error: ErrorReport; stats?: RankStats; trace?: RankTrace }
  | { type: 'aborted'; rank: number }
  | { type: 'abort'; rank: number; code: number; message: string };

/** 'peers': endpoints[p] is rank p's QP address toward the receiving rank (undefined for itself). */
export type LauncherToRank = { type: 'peers'; endpoints: unknown[] } | { type: 'go' };

export function reportError(e: unknown): ErrorReport {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, stack: e.stack, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: `a non-Error value was thrown: ${String(e)}` };
}
