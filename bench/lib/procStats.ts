/**
 * CPU time and memory of a process, read from /proc (Linux): the server's own cost stays
 * measurable when the load generator, not the server, is the bottleneck.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK` (100 on Linux), read once. */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User and system CPU time of `pid` in ms (10 ms resolution); 0 once the process is gone. */
export function cpuTimes(pid: number): { userMs: number; systemMs: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const toMs = (ticks: string) => (Number(ticks) * 1000) / clockTicks();
    return { userMs: toMs(fields[11]), systemMs: toMs(fields[12]) };
  } catch {
    return { userMs: 0, systemMs: 0 };
  }
}

/** User and system time summed over several processes, each /proc file read once. */
function totalCpuTimes(pids: number[]): { cpuMs: number; systemMs: number } {
  return pids.map(cpuTimes).reduce((sum, t) => ({ cpuMs: sum.cpuMs + t.userMs + t.systemMs, systemMs: sum.systemMs + t.systemMs }), { cpuMs: 0, systemMs: 0 });
}

/** Resident set size of `pid` in bytes (VmRSS); 0 once the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A CPU meter over a set of processes: `stop()` gives the CPU ms used (and of it, in the kernel) and the wall ms elapsed. */
export function startCpuMeter(pids: number[]): { stop(): { cpuMs: number; systemMs: number; wallMs: number } } {
  const start = totalCpuTimes(pids);
  const t0 = performance.now();
  return {
    stop: () => {
      const end = totalCpuTimes(pids);
      return { cpuMs: end.cpuMs - start.cpuMs, systemMs: end.systemMs - start.systemMs, wallMs: performance.now() - t0 };
    },
  };
}

/**
 * Resolves once the processes have been (nearly) idle for `quietMs` — under 5 % of a core —
 * or after `maxMs`: a window must not start while the servers still work off the backlog of
 * an overloaded one. Returns how long it waited.
 */
export async function untilIdle(pids: number[], quietMs = 300, maxMs = 15_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const meter = startCpuMeter(pids);
    await new Promise((r) => setTimeout(r, quietMs));
    const { cpuMs, wallMs } = meter.stop();
    if (cpuMs < 0.05 * wallMs) break;
  }
  return performance.now() - t0;
}
