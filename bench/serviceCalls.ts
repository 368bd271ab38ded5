/**
 * `npm run bench:calls`: the CPU one chat-service batch call costs the gateway's process
 * (its ServiceClient: axios, axios-retry, cockatiel, the undici adapter) against undici's
 * dispatch alone, measured in the same run, alternating. Calls come one every 11 ms (the batch
 * rate at 1500 msg/s with a 10 ms window, where a call's code runs cold) and back to back.
 * Caller pinned like a server under test; the bench's stand-in chat-service answers.
 * Prints a Markdown table and writes bench/results/calls.md. `--rounds N` (default 5);
 * `--dist DIR` measures another build of the gateway (a lever's before, built elsewhere);
 * `--single` makes each call one `POST /messages` (a chat-service without batch endpoints).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileBench, ensureGatewayBuilt } from './lib/build.js';
import { choosePlacement, pin } from './lib/placement.js';
import { ProcessGroup, whenReadyPort } from './lib/processes.js';
import { describeMachine } from './lib/report.js';
import type { CallsSpec } from './serviceCallsClient.js';

const benchDir = import.meta.dirname;
const root = resolve(benchDir, '..');
const MODES = ['undici', 'gateway'] as const;
/** Sparse, like the batches at 1500 msg/s; then back to back. */
const SPACINGS = [
  { spacingMs: 11, calls: 600 },
  { spacingMs: 0, calls: 3000 },
];
/** A batch as the relay bench makes it at 1500/s: 15 messages of 64 characters. */
const BATCH = { batch: 15, contentBytes: 64 };
/** One message per call, as without batch endpoints. */
const SINGLE = { batch: 0, contentBytes: 64 };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(group: ProcessGroup, buildDir: string, spec: CallsSpec): Promise<number> {
  const path = join(buildDir, 'serviceCallsClient.js');
  const result = await group.measureOnServerCore<{ cpuUsPerCall: number }>(`calls-${spec.mode}`, path, [JSON.stringify(spec)]);
  return result.cpuUsPerCall;
}

/** The value after `flag` on the command line, if given. */
function option(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at > 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const rounds = Number(option('--rounds') ?? 5);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: a whole number of at least 1');
  const otherDist = option('--dist');
  const shape = process.argv.includes('--single') ? SINGLE : BATCH;
  const described = shape.batch
    ? `POST /messages/batch with ${shape.batch} messages of ${shape.contentBytes} characters`
    : `POST /messages with one message of ${shape.contentBytes} characters`;
  const distDir = otherDist ? resolve(otherDist) : join(root, 'dist');
  const machine = describeMachine();
  const revision = otherDist ? `the build in ${distDir}` : `revision ${ensureGatewayBuilt(root, console.log).revision}`;
  const buildDir = await compileBench(benchDir);
  const placement = choosePlacement(true);
  pin(process.pid, placement.other);
  const group = new ProcessGroup(placement);
  group.installSignalHandlers();
  const standIn = group.fork('chat-standin', join(buildDir, 'standins', 'chatService.js'));
  const port = await whenReadyPort(standIn);
  const lines = [
    '# CPU per chat-service call: the gateway\'s ServiceClient against undici alone',
    '',
    `- Measured: ${new Date().toISOString()}, ${revision}, ${rounds} rounds, modes alternating`,
    `- Machine: ${machine.cores} × ${machine.model}, ${machine.memoryGiB} GiB, Node ${machine.node}; ${placement.describe}`,
    `- A call: ${described}, answered by the bench's stand-in`,
    '',
    '| calls | undici alone: µs per call, median (range) | gateway ServiceClient | difference |',
    '|---|---:|---:|---:|',
  ];
  try {
    for (const { spacingMs, calls } of SPACINGS) {
      const figures: Record<(typeof MODES)[number], number[]> = { undici: [], gateway: [] };
      for (let round = 0; round < rounds; round++) {
        // Each round swaps the order, so neither mode always runs second.
        for (const mode of round % 2 ? [...MODES].reverse() : MODES) {
          figures[mode].push(await measure(group, buildDir, { mode, distDir, port, spacingMs, calls, ...shape }));
        }
      }
      const cell = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
      const label = spacingMs ? `one every ${spacingMs} ms` : 'back to back';
      lines.push(`| ${label} | ${cell(figures.undici)} | ${cell(figures.gateway)} | +${(median(figures.gateway) - median(figures.undici)).toFixed(0)} |`);
      console.log(lines.at(-1));
    }
  } finally {
    await group.stopAll();
  }
  const text = lines.join('\n') + '\n';
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(join(benchDir, 'results', 'calls.md'), text);
  console.log(`\n${text}`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
