/**
 * `npm run reliability`: runs every scenario in ./scenarios at report intensity and writes
 * docs/reliability.md with the figures and the machine they were measured on.
 * `npm run reliability -- --quick` uses the test intensity (what CI asserts).
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Intensity, ScenarioResult } from './scenario.js';

const ORDER = ['malformed', 'auth-attacks', 'abuse', 'faults'];
const here = import.meta.dirname;
const out = resolve(here, '../../docs/reliability.md');

async function main(): Promise<void> {
  const intensity: Intensity = process.argv.includes('--quick') ? 'test' : 'report';
  const names = readdirSync(join(here, 'scenarios'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort((a, b) => rank(a) - rank(b));
  const sections: string[] = [];
  for (const name of names) {
    const started = Date.now();
    process.stdout.write(`running ${name}... `);
    const mod = (await import(pathToFileURL(join(here, 'scenarios', `${name}.ts`)).href)) as {
      run(i: Intensity): Promise<ScenarioResult[]>;
    };
    const results = await mod.run(intensity);
    process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    sections.push(`## ${name}\n\n${results.map(render).join('\n')}`);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${header(intensity)}\n${sections.join('\n')}`);
  console.log(`wrote ${out}`);
  process.exit(0);
}

function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
}

function header(intensity: Intensity): string {
  const cpu = cpus();
  return `# Reliability and security report

Regenerate with \`npm run reliability\` (about a few minutes; \`-- --quick\` for the CI-sized run).
The same scenarios run in \`npm test\` at test intensity and assert every figure that must be 0.

- Measured: ${new Date().toISOString()}, intensity \`${intensity}\`
- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}
- Traffic: loopback only, bounded loops; gateways run in this process unless a scenario says otherwise.
`;
}

function render(r: ScenarioResult): string {
  const rows = Object.entries(r.figures)
    .map(([k, v]) => `| ${k} | ${v} |`)
    .join('\n');
  const notes = (r.notes ?? []).map((n) => `- ${n}`).join('\n');
  return `### ${r.name}\n\n| figure | value |\n|---|---|\n${rows}\n${notes ? `\n${notes}\n` : ''}`;
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
