import { readFileSync } from 'node:fs';
import { InvalidArgument } from '../errors.js';
import { hdr, presets, type PresetName } from './defaults.js';
import type { CostField, CostModel } from './model.js';

const NULLABLE = new Set<CostField>(['loopbackLatencyUs', 'loopbackBandwidthGBps', 'memlockLimitBytes']);
const POSITIVE = new Set<CostField>(['bandwidthGBps', 'loopbackBandwidthGBps', 'memcpyGBps', 'shmGBps', 'shmLargeGBps', 'cmaGBps',
  'pageSize', 'odpFaultChunkBytes']);
const FIELDS = Object.keys(hdr).filter((k) => k !== 'name') as CostField[];

/**
 * A validated cost model: `base` (a preset name or a model) with `overrides` on top.
 * Unknown fields are refused (a typo would otherwise silently keep the default).
 */
export function costModel(base: PresetName | CostModel = 'hdr', overrides: Partial<CostModel> = {}): CostModel {
  const start = typeof base === 'string' ? presetByName(base) : base;
  const merged: Record<string, unknown> = { ...start, ...overrides };
  if (Object.keys(overrides).length > 0 && overrides.name === undefined) merged.name = `${start.name}+custom`;
  for (const key of Object.keys(merged)) {
    if (key !== 'name' && !(FIELDS as string[]).includes(key)) {
      throw new InvalidArgument(`cost model: unknown field "${key}"; known fields: ${FIELDS.join(', ')}`);
    }
  }
  for (const f of FIELDS) {
    const v = merged[f];
    if (v === null && NULLABLE.has(f)) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (POSITIVE.has(f) && v === 0)) {
      throw new InvalidArgument(
        `cost model: ${f} must be a finite ${POSITIVE.has(f) ? 'positive' : 'non-negative'} number` +
          `${NULLABLE.has(f) ? ' or null' : ''}, got ${JSON.stringify(v)}`,
      );
    }
  }
  if (typeof merged.name !== 'string') throw new InvalidArgument('cost model: name must be a string');
  return Object.freeze(merged as unknown as CostModel);
}

function presetByName(name: string): CostModel {
  const p = (presets as Record<string, CostModel>)[name];
  if (p === undefined) throw new InvalidArgument(`cost model: unknown preset "${name}"; use edr, hdr or ndr`);
  return p;
}

/**
 * Read a cost model from a JSON file: `{ "preset": "ndr", "odpFaultUs": 500 }`. Fields not in
 * the file keep the preset's values (hdr when no preset is named).
 */
export function loadCostModel(path: string): CostModel {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InvalidArgument(`cost model file ${path}: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgument(`cost model file ${path}: expected a JSON object of cost fields`);
  }
  const { preset, ...rest } = parsed as Record<string, unknown>;
  if (preset !== undefined && typeof preset !== 'string') {
    throw new InvalidArgument(`cost model file ${path}: "preset" must be edr, hdr or ndr`);
  }
  const base = (preset ?? (typeof rest.name === 'string' && rest.name in presets ? rest.name : 'hdr')) as PresetName;
  return costModel(base, rest as Partial<CostModel>);
}
