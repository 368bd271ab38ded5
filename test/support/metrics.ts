import { expect } from 'chai';
import type { Stack } from './stack.js';

/** One sample line of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The gateway's `GET /metrics` body (asserting a 200 in the Prometheus text format). */
export async function scrape(stack: Stack): Promise<string> {
  const res = await fetch(`${stack.url}/metrics`);
  expect(res.status, 'GET /metrics status').to.equal(200);
  expect(res.headers.get('content-type'), 'GET /metrics content-type').to.match(/^text\/plain/);
  return res.text();
}

/** Every sample of the metric `name` (exact name: `_bucket`, `_sum`... are names of their own). */
export function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    out.push({ name, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the first sample of `name` whose labels include `labels`; undefined when none. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Like `sample`, but an absent labelled counter counts as 0 (prom-client prints none before the first inc). */
export function counter(text: string, name: string, labels: Record<string, string> = {}): number {
  return sample(text, name, labels) ?? 0;
}
