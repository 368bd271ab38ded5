/**
 * Every process the benchmark starts, so that all of them end with it: on normal completion,
 * on an error, and on SIGINT/SIGTERM/SIGHUP.
 */
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import { whenReady } from './ipc.js';
import { pin, renice, type Placement } from './placement.js';

/** A child the group owns, with the last lines it printed (for error messages). */
export interface ManagedChild {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The last lines of stdout/stderr. */
  tail(): string;
}

const TAIL_LINES = 40;

export class ProcessGroup {
  private readonly children = new Set<ManagedChild>();
  /** How each child was started, so `respawn` can start it again (environment additions aside). */
  private readonly launches = new WeakMap<ManagedChild, (extraEnv: NodeJS.ProcessEnv) => ChildProcess>();
  private signalsInstalled = false;

  /** Every child starts on the placement's "other" CPUs; `placeServer` moves a server to its own. */
  constructor(private readonly placement: Placement = { describe: 'not pinned' }) {}

  /**
   * Moves a server's JavaScript thread onto the servers' CPU and keeps its GC and libuv helper
   * threads on the others. Call it once the server is ready: a thread started later inherits
   * the JavaScript thread's CPU (placed at spawn, 6 of a gateway's 11 threads ended up on CPU 0).
   */
  placeServer(child: ManagedChild): void {
    pin(child.pid, this.placement.other);
    pin(child.pid, this.placement.server, true);
  }

  /**
   * Runs a child that measures something on the servers' core: forks it, places it there,
   * sends "start" and resolves with its one answer once it has ended.
   */
  async measureOnServerCore<T>(name: string, modulePath: string, args: string[] = []): Promise<T> {
    const child = this.fork(name, modulePath, args);
    this.placeServer(child);
    const answer = once(child.proc, 'message');
    child.proc.send('start');
    const [result] = (await answer) as [T];
    await this.stop(child);
    return result;
  }

  /** Puts the stand-in chat-service ahead of the load clients on the core they share. */
  placeService(child: ManagedChild): void {
    renice(child.pid, this.placement.serviceNice);
  }

  /** Starts a program (no shell). Its output is kept, not printed. */
  spawn(name: string, command: string, args: string[], opts: SpawnOptions = {}): ManagedChild {
    const launch = (extraEnv: NodeJS.ProcessEnv) =>
      spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts, env: { ...(opts.env ?? process.env), ...extraEnv } });
    return this.adopt(name, launch({}), launch);
  }

  /** Forks a Node module with an IPC channel. */
  fork(name: string, modulePath: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env, execArgv: string[] = []): ManagedChild {
    const launch = (extraEnv: NodeJS.ProcessEnv) => fork(modulePath, args, { env: { ...env, ...extraEnv }, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    return this.adopt(name, launch({}), launch);
  }

  /** Starts an ended child's command again, with the same arguments and environment plus `extraEnv`. */
  respawn(child: ManagedChild, extraEnv: NodeJS.ProcessEnv = {}): ManagedChild {
    const launch = this.launches.get(child);
    if (!launch) throw new Error(`${child.name} was not started by this group`);
    return this.adopt(child.name, launch(extraEnv), launch);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(child: ManagedChild, graceMs = 5000): Promise<void> {
    const { proc } = child;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    this.children.delete(child);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((c) => this.stop(c)));
  }

  /** Synchronous last resort (process `exit` handler): SIGKILL whatever is still running. */
  killAllNow(): void {
    for (const c of this.children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }

  /** Ends every child when the orchestrator is interrupted or exits. */
  installSignalHandlers(): void {
    if (this.signalsInstalled) return;
    this.signalsInstalled = true;
    process.once('exit', () => this.killAllNow());
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        process.stderr.write(`\n${signal}: stopping every benchmark process...\n`);
        const forced = setTimeout(() => process.exit(130), 4000);
        void this.stopAll().finally(() => {
          clearTimeout(forced);
          process.exit(130);
        });
      });
    }
  }

  private adopt(name: string, proc: ChildProcess, launch: (extraEnv: NodeJS.ProcessEnv) => ChildProcess): ManagedChild {
    if (proc.pid === undefined) throw new Error(`could not start ${name}`);
    const lines: string[] = [];
    // BENCH_CHILD_LOGS=<dir> keeps every child's whole output (with NODE_OPTIONS=--trace-gc, say).
    const logFile = process.env.BENCH_CHILD_LOGS ? join(process.env.BENCH_CHILD_LOGS, `${name}.log`) : undefined;
    const keep = (chunk: Buffer) => {
      if (logFile) appendFileSync(logFile, chunk);
      lines.push(...String(chunk).split('\n').filter(Boolean));
      if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.on('error', (e) => keep(Buffer.from(`spawn error: ${e.message}`)));
    const child: ManagedChild = { name, proc, pid: proc.pid, tail: () => lines.join('\n') };
    this.children.add(child);
    this.launches.set(child, launch);
    proc.once('exit', () => this.children.delete(child));
    pin(proc.pid, this.placement.other);
    return child;
  }
}

/** A loopback port that is free now (the server binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: ManagedChild, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.proc.exitCode ?? child.proc.signalCode}):\n${child.tail()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.tail()}`);
}

/** Polls a loopback `port` every 10 ms until it accepts a TCP connection (or the child exits, or `timeoutMs` passes). */
export async function waitForListening(port: number, child: ManagedChild, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(`${child.name} exited:\n${child.tail()}`);
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${child.name} did not listen on ${port} within ${timeoutMs} ms:\n${child.tail()}`);
}

/** Waits for a forked server's `announceReady({ port })` and returns the port. */
export async function whenReadyPort(child: ManagedChild): Promise<number> {
  try {
    return (await whenReady<{ port: number }>(child.proc, child.name)).port;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${child.tail()}`);
  }
}
