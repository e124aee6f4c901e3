import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WireUpError } from '../../errors.js';
import type { JobOptions } from '../../options.js';

/**
 * What every node process of one job must agree on: N, the node count, the program (by name and
 * contents, so a copy on another host's disk is fine), its arguments and every option. Each node puts
 * this in the PMI key-value space; a node that finds another disagreeing refuses the job at wire-up.
 */
export interface JobIdentity {
  np: number;
  nodes: number;
  program: string;
  /** sha256 of the program's bytes, first 16 hex digits. */
  programHash: string;
  args: string[];
  options: Record<string, unknown>;
}

export function jobIdentity(np: number, options: JobOptions, programURL: string, args: readonly string[]): JobIdentity {
  const path = fileURLToPath(programURL);
  const programHash = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
  // `stats` only changes what node 0 prints; it may differ without changing the job.
  const { stats: _stats, ...rest } = options;
  const opts: Record<string, unknown> = {};
  for (const k of Object.keys(rest).sort()) opts[k] = (rest as Record<string, unknown>)[k];
  return { np, nodes: options.nodes, program: basename(path), programHash, args: [...args], options: opts };
}

/** A PMI value: no spaces (PMI-1), at most 1024 characters. */
export function encodeIdentity(id: JobIdentity): string {
  return Buffer.from(JSON.stringify(id)).toString('base64url');
}

export function decodeIdentity(text: string, node: number): JobIdentity {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as JobIdentity;
  } catch {
    throw new WireUpError(`node ${node} put a job description that does not decode: it is not running this tsmpi version`);
  }
}

export function identityHash(id: JobIdentity): string {
  return createHash('sha256').update(JSON.stringify(id)).digest('hex').slice(0, 16);
}

/** Throws WireUpError naming every field where node `other` differs from node 0. */
export function checkSameJob(reference: JobIdentity, other: JobIdentity, otherNode: number): void {
  const diffs: string[] = [];
  const show = (v: unknown) => JSON.stringify(v);
  if (reference.np !== other.np) diffs.push(`-n ${reference.np} vs ${other.np}`);
  if (reference.nodes !== other.nodes) diffs.push(`nodes ${reference.nodes} vs ${other.nodes}`);
  if (reference.program !== other.program || reference.programHash !== other.programHash) {
    diffs.push(`program ${reference.program} (${reference.programHash}) vs ${other.program} (${other.programHash})`);
  }
  if (show(reference.args) !== show(other.args)) diffs.push(`program arguments ${show(reference.args)} vs ${show(other.args)}`);
  for (const k of new Set([...Object.keys(reference.options), ...Object.keys(other.options)])) {
    if (show(reference.options[k]) !== show(other.options[k])) diffs.push(`${k} ${show(reference.options[k])} vs ${show(other.options[k])}`);
  }
  if (diffs.length) {
    throw new WireUpError(
      `the job's node processes disagree, refusing to start: node ${otherNode} differs from node 0 in ${diffs.join('; ')}. ` +
        'Start every node with the same -n, program, arguments, flags and TSMPI_* variables.',
    );
  }
}
