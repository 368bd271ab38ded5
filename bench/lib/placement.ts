/**
 * Where processes run. On a machine with two or more cores the servers under test get CPU 0 to
 * themselves and everything else (load clients, the chat stand-in, redis-server, this
 * orchestrator) runs on the other cores, as in production where load comes from elsewhere: the
 * load generator then neither steals the server's core nor moves it between cores, which is
 * most of the run-to-run noise of CPU-per-message figures on a small machine.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

export interface Placement {
  /** `taskset -c` lists, or undefined when processes are left where the scheduler puts them. */
  server?: string;
  other?: string;
  /** `nice` of the stand-in chat-service, when it may be raised above the load clients'. */
  serviceNice?: number;
  /** One line for the report. */
  describe: string;
}

/**
 * The stand-in chat-service shares the other core with the load clients, and a stand-in that
 * waits behind them adds its wait to the gateway's persistence latency, as a chat-service on
 * its own machine would not (the gateway's relay p99 at 9,600 msg/s, 7 alternating pairs: 16-32
 * ms with it raised, median 21, against 16-92 ms, median 35). Raising a priority needs root.
 */
const SERVICE_NICE = -10;

export function choosePlacement(wanted: boolean): Placement {
  const count = cpus().length;
  if (!wanted) return { describe: 'not pinned (--no-pin)' };
  if (count < 2) return { describe: 'not pinned (one core)' };
  if (spawnSync('taskset', ['-V']).status !== 0) return { describe: 'not pinned (taskset missing)' };
  const other = count === 2 ? '1' : `1-${count - 1}`;
  const serviceNice = process.getuid?.() === 0 ? SERVICE_NICE : undefined;
  const standIn = serviceNice === undefined ? 'stand-in' : `stand-in (at nice ${serviceNice}, ahead of the load clients)`;
  return {
    server: '0',
    other,
    serviceNice,
    describe: `servers' JavaScript threads alone on CPU 0 (their GC and libuv helper threads on CPU ${other}); load clients, ${standIn}, redis-server on CPU ${other} (taskset)`,
  };
}

/** Sets the scheduling priority of `pid` (a no-op without a value). */
export function renice(pid: number, nice: number | undefined): void {
  if (nice === undefined) return;
  const result = spawnSync('renice', ['-n', String(nice), '-p', String(pid)]);
  if (result.status !== 0) throw new Error(`renice could not set ${pid} to ${nice}: ${String(result.stderr).trim()}`);
}

/**
 * Moves `pid` to `cpuList` (a no-op without a list): every thread, or with `mainThreadOnly`
 * just the JavaScript thread (its helper threads keep the affinity they had).
 */
export function pin(pid: number, cpuList: string | undefined, mainThreadOnly = false): void {
  if (cpuList === undefined) return;
  const result = spawnSync('taskset', [...(mainThreadOnly ? [] : ['-a']), '-p', '-c', cpuList, String(pid)]);
  if (result.status !== 0) throw new Error(`taskset could not pin ${pid}: ${String(result.stderr).trim()}`);
}
