/**
 * Gateway processes started the way operators start them (`node --import tsx src/main.ts`, or
 * `node dist/main.js`), for tests that need a real process: SIGTERM/SIGKILL, exit codes, bad
 * configuration, Redis going down under it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_SECRET } from './stack.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Lines of stdout and stderr kept per process for failure messages and `logs()`. */
const TAIL_LINES = 200;
/** Characters of stderr kept per process. */
const STDERR_CHARS = 64 * 1024;
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const DEFAULT_ENTRY = ['--import', 'tsx', 'src/main.ts'];

/** Children still running, killed when the test process exits whatever happened to its hooks. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface SpawnOptions {
  /** Node arguments. @default ['--import', 'tsx', 'src/main.ts'] */
  entry?: string[];
  /** @default the repository root */
  cwd?: string;
  /** Names the process in failure messages. @default 'gateway' */
  id?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `Date.now()` when the process exited. */
  at: number;
}

/** A spawned process whose output is read for its whole life (a full pipe would block it). */
export interface ProcessHandle {
  id: string;
  child: ChildProcess;
  /** True until the process exited. */
  readonly alive: boolean;
  /** Resolves once the process exited and its output was read. */
  exited: Promise<ExitInfo>;
  /** The last ~200 lines of its stdout and stderr. */
  output(): string;
  /** Its stderr (the last 64 KiB). */
  stderr(): string;
  /** Its JSON log entries among the kept lines, only those whose `message` is `message` when given. */
  logs(message?: string): Array<Record<string, any>>;
  /** True when any JSON log line it wrote (kept or not) had this `message`. */
  logged(message: string): boolean;
  /** Resolves with the first output line that satisfies `match`; rejects if the process exits first, or after `timeoutMs`. */
  untilLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (when still running) and returns `exited`. */
  kill(signal: NodeJS.Signals): Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process exited. */
  stop(): Promise<ExitInfo>;
}

/** A gateway process that logged "gateway listening". */
export interface GatewayProcess extends ProcessHandle {
  url: string;
  port: number;
  /** The parsed "gateway listening" log entry. */
  listening: Record<string, any>;
}

/**
 * What a working deployment of one gateway sets, on a free loopback port in front of `services`
 * (the reference auth- and chat-service), logging at info, without rate limits.
 */
export function gatewayEnv(services: { auth: { url: string }; chat: { url: string } }): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_SECRET,
    AUTH_SERVICE_URL: services.auth.url,
    CHAT_SERVICE_URL: services.chat.url,
    LOG_LEVEL: 'info',
    RATE_LIMIT_ENABLED: 'false',
  };
}

/**
 * Spawns `node <entry>` with exactly `env`, plus PATH and an ENV_FILE that does not exist (so no
 * .env file of the working tree changes what the test sets) unless `env` sets them.
 */
export function spawnProcess(env: Record<string, string>, opts: SpawnOptions = {}): ProcessHandle {
  const id = opts.id ?? 'gateway';
  const child = spawn(process.execPath, opts.entry ?? DEFAULT_ENTRY, {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', ENV_FILE: join(tmpdir(), 'gateway-test-no-such.env'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
    for (const watch of watchers) watch(line);
  };
  const messages = new Set<string>();
  let stderr = '';
  readLines(child.stdout!, (line) => {
    const entry = parseJson(line);
    if (typeof entry?.message === 'string') messages.add(entry.message);
    keep(line);
  });
  readLines(child.stderr!, keep, (chunk) => (stderr = (stderr + chunk).slice(-STDERR_CHARS)));

  let exit: ExitInfo | undefined;
  child.once('exit', (code, signal) => {
    exit = { code, signal, at: Date.now() };
    live.delete(child);
  });
  child.once('error', (e) => keep(`[${id} failed: ${e.message}]`));
  const exited = new Promise<ExitInfo>((done) =>
    child.once('close', (code, signal) => {
      live.delete(child);
      exit ??= { code, signal, at: Date.now() };
      keep(`[${id} exited: code ${exit.code}, signal ${exit.signal}]`);
      done(exit);
    }),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  const output = () => lines.join('\n');

  const kill = (signal: NodeJS.Signals) => {
    if (alive()) child.kill(signal);
    return exited;
  };

  return {
    id,
    child,
    get alive() {
      return alive();
    },
    exited,
    output,
    stderr: () => stderr,
    logs: (message) =>
      lines.map(parseJson).filter((e): e is Record<string, any> => e !== undefined && (message === undefined || e.message === message)),
    logged: (message) => messages.has(message),
    untilLine: (match, timeoutMs) =>
      new Promise((found, failed) => {
        let timer: NodeJS.Timeout | undefined;
        const done = () => {
          clearTimeout(timer);
          watchers.delete(watch);
        };
        const watch = (line: string) => {
          if (!match(line)) return;
          done();
          found(line);
        };
        watchers.add(watch);
        const seen = lines.find(match);
        if (seen !== undefined) {
          done();
          found(seen);
          return;
        }
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            done();
            failed(new Error(`${id}: no matching output line within ${timeoutMs} ms:\n${output()}`));
          }, timeoutMs);
        }
        void exited.then(() => {
          if (!watchers.has(watch)) return;
          done();
          failed(new Error(`${id} exited before the expected output line:\n${output()}`));
        });
      }),
    kill,
    async stop() {
      if (!alive()) return exited;
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      const info = await exited;
      clearTimeout(forced);
      return info;
    },
  };
}

/**
 * Spawns a gateway (see `spawnProcess`) and resolves once it logged "gateway listening" with its
 * port; rejects (with its output) if it exits first or does not listen within 20 s.
 */
export async function spawnGateway(env: Record<string, string>, opts: SpawnOptions = {}): Promise<GatewayProcess> {
  const proc = spawnProcess(env, opts);
  const isListening = (line: string) => {
    const entry = parseJson(line);
    return entry?.message === 'gateway listening' && typeof entry.port === 'number';
  };
  let line: string;
  try {
    line = await proc.untilLine(isListening, START_TIMEOUT_MS);
  } catch {
    const why = proc.alive ? `did not log "gateway listening" within ${START_TIMEOUT_MS} ms` : 'exited before listening';
    proc.child.kill('SIGKILL');
    throw new Error(`${proc.id} ${why}:\n${proc.output()}`);
  }
  const listening = parseJson(line)!;
  return Object.defineProperties(proc, {
    url: { value: `http://127.0.0.1:${listening.port}`, enumerable: true },
    port: { value: listening.port as number, enumerable: true },
    listening: { value: listening, enumerable: true },
  }) as GatewayProcess;
}

/**
 * For processes that must fail to start: spawns (see `spawnProcess`) and resolves once the
 * process exited, with its whole stdout and stderr; SIGKILLs it and rejects after `timeoutMs`.
 */
export async function runToExit(
  env: Record<string, string>,
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<ExitInfo & { stdout: string; stderr: string }> {
  const proc = spawnProcess(env, opts);
  let stdout = '';
  let stderr = '';
  proc.child.stdout!.on('data', (c: string) => (stdout += c));
  proc.child.stderr!.on('data', (c: string) => (stderr += c));
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, failed) => {
    timer = setTimeout(() => {
      proc.child.kill('SIGKILL');
      failed(new Error(`${proc.id} did not exit within ${timeoutMs} ms:\n${proc.output()}`));
    }, timeoutMs);
  });
  try {
    const exit = await Promise.race([proc.exited, expired]);
    return { ...exit, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void, onChunk?: (chunk: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    onChunk?.(chunk);
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) onLine(line);
  });
  stream.on('end', () => {
    if (buffered) onLine(buffered);
    buffered = '';
  });
}

function parseJson(line: string): Record<string, any> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' ? (value as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}
