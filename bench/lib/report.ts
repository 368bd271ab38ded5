/**
 * Writes the results: bench/results/{out}.json with every figure, {out}.md with the tables; and
 * the published table of the headline figures in docs/performance.md (`publish`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { GatewayBuild } from './build.js';
import { describeGatewayConfig } from './gatewayEnv.js';
import { SCENARIOS, type BenchOptions } from './options.js';
import type { ProfileSummary } from './profileSummary.js';
import type { Row, ScenarioResult } from './scenario.js';
import type { ServerKind } from './servers.js';
import type { SparseWork } from './sparseWork.js';

export interface Machine {
  cores: number;
  model: string;
  memoryGiB: number;
  /** The Node running the bench and its load processes. */
  node: string;
  /** The Node each kind of server reported running on. */
  serverNode?: Partial<Record<ServerKind, string>>;
  kernel: string;
  /** 1-minute load average when the run started and ended: other work on the machine shows here. */
  loadAverageStart: number;
  loadAverageEnd?: number;
  /** The same work's CPU cost every 1 ms and every 10 ms on the servers' core. */
  sparseWork?: SparseWork;
}

export function describeMachine(): Machine {
  const cpu = cpus();
  return {
    cores: cpu.length,
    model: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAverageStart: loadavg()[0],
  };
}

/** gateway / bare, when both are numbers and the metric has a direction. */
export function ratioOf(row: Row): number | undefined {
  const { bare, gateway } = row.values;
  if (row.better === 'none' || typeof bare !== 'number' || typeof gateway !== 'number' || !bare) return undefined;
  const ratio = gateway / bare;
  return Number.isFinite(ratio) ? ratio : undefined;
}

const cell = (v: number | string | undefined) => (v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? '–' : String(v));

/** The bare, gateway, ratio and target cells of a row. */
function figureCells(row: Row): string {
  const ratio = ratioOf(row);
  const target = row.target ? `${row.target.pass === undefined ? '' : row.target.pass ? '✅ ' : '❌ '}${row.target.text}` : '';
  return `${cell(row.values.bare)} | ${cell(row.values.gateway)} | ${ratio === undefined ? '' : `${ratio.toFixed(2)}×`} | ${target} |`;
}

export function renderTable(result: ScenarioResult): string {
  if (result.skipped) return `${result.skipped}\n`;
  const lines = ['| metric | unit | bare Socket.IO | gateway | gateway / bare | target |', '|---|---|---:|---:|---:|---|'];
  for (const row of result.rows) lines.push(`| ${row.metric} | ${row.unit} | ${figureCells(row)}`);
  return `${lines.join('\n')}\n${result.note ? `\n${result.note}\n` : ''}`;
}

/** The published table: every row with a target or marked `headline`, scenario by scenario. */
export function renderHeadlineTable(results: ScenarioResult[]): string {
  const lines = ['| scenario | figure | bare Socket.IO relay | gateway | gateway / bare | target |', '|---|---|---:|---:|---:|---|'];
  for (const result of results) {
    const label = result.label ?? result.title;
    if (result.skipped) {
      lines.push(`| ${label} | ${result.skipped} | | | | |`);
      continue;
    }
    result.rows
      .filter((row) => row.target || row.headline)
      .forEach((row, i) => lines.push(`| ${i === 0 ? label : ''} | ${row.metric}${row.unit ? ` (${row.unit})` : ''} | ${figureCells(row)}`));
  }
  return `${lines.join('\n')}\n`;
}

export interface Report {
  root: string;
  opts: BenchOptions;
  machine: Machine;
  /** Which CPUs the servers and the rest ran on. */
  placement: string;
  build: GatewayBuild;
  startedAt: Date;
  durationS: number;
  results: ScenarioResult[];
  /** Gateway CPU profiles of this run (`--cpu-prof`). */
  profiles: ProfileSummary[];
}

/** The machine and the configuration, as list items (also the published run block). */
function describeRun(r: Report): string[] {
  const m = r.machine;
  return [
    `- Measured: ${r.startedAt.toISOString()}, profile \`${r.opts.profile.name}\`, ${Math.round(r.durationS)} s, revision ${r.build.revision}`,
    `- Machine: ${m.cores} × ${m.model}, ${m.memoryGiB} GiB, ${describeNode(m)}, Linux ${m.kernel}`,
    `- Load average (1 min) at start / end: ${m.loadAverageStart.toFixed(2)} / ${m.loadAverageEnd?.toFixed(2) ?? '?'}${m.loadAverageStart > 0.5 ? ' — **other work was running: figures are rough**' : ''}`,
    `- Gateway: ${describeGatewayConfig(r.opts.gatewayEnv)}`,
  ];
}

export function renderMarkdown(r: Report): string {
  const m = r.machine;
  const header = `# Benchmark: the gateway against a bare Socket.IO relay

Regenerate with \`npm run bench\` (full, about 20 minutes; rewrites docs/performance.md) or \`npm run bench -- --quick\` (about 4 minutes).
Options: \`--only ${SCENARIOS.join(',')}\`, \`--gateway-env KEY=VALUE\`, \`--cpu-prof\`.

${describeRun(r).join('\n')}
- Gateway build: \`node dist/main.js\` (${r.build.state}${r.build.note ? `: ${r.build.note}` : ''}), a fast stand-in chat-service and auth-service in its own process
- Baseline: bare Socket.IO relay on the same Node (same server options, same frames, no auth/validation/persistence)
- Load: ${r.opts.loadProcesses} processes speaking Engine.IO/Socket.IO over \`ws\`; loopback only; a rate "holds" when every event is acked, ≥ 97 % of deliveries arrive and p99 ≤ ${r.opts.profile.p99BoundMs} ms
- CPU = user + system time of the server process(es) from /proc over the window; "cores" = CPU time / wall time
- Placement: ${r.placement}
${m.sparseWork ? `- Sparse work: the same unit of work cost ${m.sparseWork.sparseUs.toFixed(1)} µs of CPU every 10 ms against ${m.sparseWork.denseUs.toFixed(1)} µs every 1 ms on the servers' core (${(m.sparseWork.sparseUs / m.sparseWork.denseUs).toFixed(2)}×): CPU per message at low load carries this\n` : ''}`;
  const sections = r.results.map((s, i) => `## ${i + 1}. ${s.title}\n\n${renderTable(s)}`);
  return `${header}\n## Headline figures (as published in docs/performance.md)\n\n${renderHeadlineTable(r.results)}\n${sections.join('\n')}`;
}

/** Replaces what lies between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; throws when they are missing. */
function replaceBlock(text: string, name: string, content: string, path: string): string {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${path} lacks the markers ${open} … ${close}: not rewritten`);
  return `${text.slice(0, start + open.length)}\n${content}${text.slice(end)}`;
}

/** Rewrites the run block (machine, date, configuration) and the headline table of docs/performance.md. */
export function publish(r: Report, path: string): void {
  let text = readFileSync(path, 'utf8');
  text = replaceBlock(text, 'run', `${describeRun(r).join('\n')}\n`, path);
  text = replaceBlock(text, 'table', renderHeadlineTable(r.results), path);
  writeFileSync(path, text);
}

/** "Node v24.1.0 (bare relay, gateway, load clients)", or each version where they differ. */
function describeNode(m: Machine): string {
  const ran = Object.entries({ 'bare relay': m.serverNode?.bare, gateway: m.serverNode?.gateway, 'load clients': m.node }).filter(([, v]) => v);
  if (ran.every(([, v]) => v === m.node)) return `Node ${m.node} (${ran.map(([who]) => who).join(', ')})`;
  return ran.map(([who, v]) => `Node ${v} (${who})`).join(', ');
}

export function writeReport(r: Report, dir: string): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${r.opts.out}.json`);
  const md = join(dir, `${r.opts.out}.md`);
  const data = {
    generated_at: r.startedAt.toISOString(),
    duration_s: r.durationS,
    profile: r.opts.profile,
    options: { ...r.opts, profile: r.opts.profile.name },
    machine: r.machine,
    placement: r.placement,
    gateway_build: r.build,
    scenarios: r.results.map((s) => ({
      name: s.name,
      title: s.title,
      label: s.label,
      note: s.note,
      skipped: s.skipped,
      rows: s.rows.map((row) => ({ ...row, ratio_gateway_to_bare: ratioOf(row) })),
      figures: s.figures,
    })),
    gateway_cpu_profiles: r.profiles,
  };
  writeFileSync(json, `${JSON.stringify(data, null, 2)}\n`);
  writeFileSync(md, renderMarkdown(r));
  return { json, md };
}
