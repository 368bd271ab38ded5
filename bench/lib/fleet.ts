/**
 * The load-client processes, as the orchestrator sees them: users are placed on processes,
 * and each command goes to the processes concerned; their answers come back as a list.
 */
import { join } from 'node:path';
import { IpcPeer } from './ipc.js';
import type { ManagedChild, ProcessGroup } from './processes.js';
import type {
  CloseResult,
  CollectResult,
  ConnectCmd,
  ConnectResult,
  PresenceCmd,
  PresenceResult,
  ReconnectedCmd,
  ReconnectedResult,
  ReconnectPolicy,
  RoomsResult,
  RunCmd,
  RunResult,
  StatusResult,
  SubscribeCmd,
  SubscribeResult,
} from './loadProtocol.js';

export class LoadFleet {
  private readonly children: ManagedChild[] = [];
  private readonly peers: IpcPeer[] = [];

  constructor(group: ProcessGroup, buildDir: string, readonly size: number) {
    for (let i = 0; i < size; i++) {
      // Each process holds at most ~10k sockets; a process may open 20,000 files here.
      const child = group.fork(`load-${i}`, join(buildDir, 'loadClient.js'), [], process.env, ['--max-old-space-size=2048']);
      this.children.push(child);
      this.peers.push(new IpcPeer(child.proc, child.name));
    }
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid);
  }

  /**
   * Connects each process's users (lists indexed by process) to `url`, `rate` sockets/s in all;
   * with `reconnect`, the sockets come back by themselves when lost.
   */
  connect(usersByProc: string[][], url: string, rate: number, jwtSecret: string, maxPending = 300, reconnect?: ReconnectPolicy): Promise<ConnectResult[]> {
    const total = usersByProc.reduce((n, u) => n + u.length, 0) || 1;
    return this.each(usersByProc, (users) => ({
      cmd: 'connect',
      url,
      users,
      rate: Math.max(1, (rate * users.length) / total),
      maxPending,
      timeoutMs: 20_000,
      jwtSecret,
      reconnect,
    }) satisfies ConnectCmd);
  }

  /** What the reconnecting sockets went through, once all that were lost since `sinceMs` (wall clock) are back or `timeoutMs` passed. */
  reconnected(sinceMs: number, timeoutMs: number): Promise<ReconnectedResult[]> {
    return this.all({ cmd: 'reconnected', sinceMs, timeoutMs } satisfies ReconnectedCmd, timeoutMs + 10_000);
  }

  /** Subscribes each process's subscribers to the presence of their watched users, and records what they hear. */
  subscribe(byProc: Array<SubscribeCmd['subscriptions']>): Promise<SubscribeResult[]> {
    return this.each(byProc, (subscriptions) => ({ cmd: 'subscribe', subscriptions }) satisfies SubscribeCmd);
  }

  /** The presence events the subscribers saw since `subscribe`, once they stopped arriving. */
  presence(settleMs: number, maxWaitMs: number): Promise<PresenceResult[]> {
    return this.all({ cmd: 'presence', settleMs, maxWaitMs } satisfies PresenceCmd, maxWaitMs + 10_000);
  }

  rooms(cmd: 'join' | 'leave', byProc: Array<Array<[string, string]>>): Promise<RoomsResult[]> {
    return this.each(byProc, (memberships) => ({ cmd, memberships }));
  }

  /** Runs a step on every process with senders; `rate` is split in proportion to senders. */
  run(sendersByProc: Array<Array<[string, string]>>, spec: Omit<RunCmd, 'cmd' | 'senders' | 'rate'>, rate: number): Promise<RunResult[]> {
    const total = sendersByProc.reduce((n, s) => n + s.length, 0) || 1;
    return this.each(sendersByProc, (senders) => ({ cmd: 'run', ...spec, senders, rate: (rate * senders.length) / total }), {
      timeoutMs: spec.durationMs + spec.drainMs + 30_000,
    });
  }

  collect(step: number, settleMs: number, maxWaitMs: number): Promise<CollectResult[]> {
    return this.all({ cmd: 'collect', step, settleMs, maxWaitMs }, maxWaitMs + 10_000);
  }

  status(): Promise<StatusResult[]> {
    return this.all({ cmd: 'status' });
  }

  close(): Promise<CloseResult[]> {
    return this.all({ cmd: 'close', timeoutMs: 10_000 }, 60_000);
  }

  /** Places `items` on processes round-robin. */
  spread<T>(items: T[]): T[][] {
    const out: T[][] = Array.from({ length: this.size }, () => []);
    items.forEach((item, i) => out[i % this.size].push(item));
    return out;
  }

  private all<T>(cmd: object, timeoutMs?: number): Promise<T[]> {
    return Promise.all(this.peers.map((p) => p.request<T>(cmd, timeoutMs)));
  }

  /** Sends each process its own command (skipping processes with nothing to do). */
  private async each<I, T>(byProc: I[][], build: (items: I[]) => object, opts: { timeoutMs?: number } = {}): Promise<T[]> {
    const answers = await Promise.all(
      byProc.map((items, i) => (items.length === 0 ? undefined : this.peers[i].request<T>(build(items), opts.timeoutMs ?? 300_000))),
    );
    return answers.filter((a): a is Awaited<T> => a !== undefined) as T[];
  }
}
