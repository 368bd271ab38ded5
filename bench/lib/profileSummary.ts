/**
 * Reads a `node --cpu-prof` profile and says where the time went: the functions with the most
 * self time, and self time by package (node_modules/<pkg>, node: internals, the gateway's own files).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of samples spent idle (the event loop waiting). */
  idlePct: number;
  topFunctions: Array<{ name: string; where: string; selfPct: number }>;
  byPackage: Array<{ name: string; selfPct: number }>;
}

function packageOf(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node: internals';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const own = /\/(dist|src)\/(.*)$/.exec(url);
  return own ? `gateway: ${own[2].split('/')[0]}` : url;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number };
  const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0) || 1;
  const byFunction = new Map<string, { name: string; where: string; hits: number }>();
  const byPackage = new Map<string, number>();
  let idle = 0;
  for (const { callFrame, hitCount = 0 } of profile.nodes) {
    if (!hitCount) continue;
    if (callFrame.functionName === '(idle)') {
      idle += hitCount;
      continue;
    }
    const where = callFrame.url ? `${callFrame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: callFrame.functionName || '(anonymous)', where, hits: 0 };
    entry.hits += hitCount;
    byFunction.set(key, entry);
    const pkg = callFrame.functionName.startsWith('(') ? callFrame.functionName : packageOf(callFrame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hitCount);
  }
  const pct = (hits: number) => Math.round((hits / total) * 1000) / 10;
  return {
    file,
    totalMs: (profile.endTime - profile.startTime) / 1000,
    idlePct: pct(idle),
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfPct: pct(f.hits) })),
    byPackage: [...byPackage.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({ name, selfPct: pct(hits) })),
  };
}

export function renderProfileSummary(s: ProfileSummary): string {
  return [
    `${s.file} (${Math.round(s.totalMs / 1000)} s, ${s.idlePct} % idle)`,
    '  self time by package:',
    ...s.byPackage.map((p) => `    ${p.selfPct.toFixed(1).padStart(5)} %  ${p.name}`),
    '  functions with the most self time:',
    ...s.topFunctions.map((f) => `    ${f.selfPct.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`),
  ].join('\n');
}
