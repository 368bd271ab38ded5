/**
 * Request/response over a forked child's IPC channel: the orchestrator sends `{ id, cmd, ... }`,
 * the child answers `{ id, result }` or `{ id, error }`. A child that loses its parent exits.
 */
import type { ChildProcess } from 'node:child_process';

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** Parent side: `request()` resolves with the child's result, or rejects on error, exit or timeout. */
export class IpcPeer {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {
    child.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.error !== undefined) w.reject(new Error(`${name}: ${m.error}`));
      else w.resolve(m.result);
    });
    child.once('exit', (code, signal) => this.failAll(new Error(`${name} exited (${code ?? signal})`)));
  }

  request<T>(cmd: object, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no answer to ${JSON.stringify(cmd).slice(0, 80)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ ...cmd, id });
    });
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiting.clear();
  }
}

/** Child side: answers each command with its handler's result; exits when the parent goes away. */
export function serveIpc(handlers: Record<string, (msg: any) => unknown>): void {
  if (!process.send) throw new Error('must be started with an IPC channel (child_process.fork)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: { id: number; cmd: string }) => {
    const handler = handlers[msg.cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${msg.cmd}`);
        return handler(msg);
      })
      .then(
        (result) => process.send?.({ id: msg.id, result }),
        (e: Error) => process.send?.({ id: msg.id, error: e.message }),
      );
  });
}

/** Child side: tells the parent it is listening (the first message a server child sends). */
export function announceReady(info: object): void {
  process.send?.({ id: 0, result: info });
}

/** Parent side: waits for a child's `announceReady` message. */
export function whenReady<T>(child: ChildProcess, name: string, timeoutMs = 15_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: Reply) => {
      if (m.id !== 0) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m.result as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready (${code ?? signal})`));
    });
  });
}
