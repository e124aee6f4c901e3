import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadTrace } from './load.js';
import { timelineHtml } from './view.js';

/** A timeline page to embed in another page (the study's report.html). */
export interface EmbeddedTimeline { title: string; html: string }

/** The ping-pong cells whose timelines the study's report shows: pin-per-op beside the notifier cache. */
const STUDY_CELLS = [
  { file: 'latency_pinning-off_reuse.json', title: 'ping-pong, pin-per-op (pinning × off): a registration in every rendezvous' },
  { file: 'latency_pinning-notifier_reuse.json', title: 'ping-pong, pinning × notifier: registered once, then cache hits' },
];

/** The study cells' timelines found in a `tsmpi bench --trace DIR` directory (those that were run). */
export function studyTimelines(traceDir: string): EmbeddedTimeline[] {
  return STUDY_CELLS.filter((c) => existsSync(join(traceDir, c.file))).map((c) => ({
    title: c.title,
    html: timelineHtml(loadTrace(join(traceDir, c.file)), c.title),
  }));
}

/** An iframe holding a whole timeline page (its script runs inside; nothing is fetched). */
export function timelineFrame(t: EmbeddedTimeline): string {
  const doc = t.html.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return `<figure><figcaption>${t.title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</figcaption><iframe title="timeline" style="width:1260px;height:260px;border:1px solid #ccc" srcdoc="${doc}"></iframe></figure>`;
}
