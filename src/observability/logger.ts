import winston from 'winston';

/** Field names whose values never reach a log line: credentials and message bodies. */
const REDACTED_KEYS = new Set([
  'token',
  'refresh_token',
  'authorization',
  'password',
  'secret',
  'content',
  'metadata',
  'cookie',
  'x-api-key',
  'api_key',
]);

/** Replaces sensitive values at any depth; strips CR/LF so a value cannot forge a log line. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(/[\r\n]+/g, ' ');
  if (value === null || typeof value !== 'object' || depth > 5) return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = REDACTED_KEYS.has(k.toLowerCase()) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    info[key] = REDACTED_KEYS.has(key.toLowerCase()) ? '[redacted]' : redact(info[key]);
  }
  if (typeof info.message === 'string') info.message = info.message.replace(/[\r\n]+/g, ' ');
  return info;
});

export type Logger = winston.Logger;

/**
 * Keeps a broken standard output (its reader gone: a log shipper that died,
 * `node dist/main.js | head -1`) from stopping the process. A failed write is an 'error' event
 * on process.stdout, which stays writable; unhandled, it is an uncaught exception, whose log line
 * fails the same way, and that chain never yields to the event loop, so the drain after SIGTERM
 * never runs. The first failure silences `logger` instead. A failure of stderr is ignored: it is
 * only written to at start-up and here.
 */
export function silenceOnBrokenStdout(logger: Logger): void {
  process.stdout.on('error', (e: Error) => {
    if (logger.silent) return;
    logger.silent = true;
    process.stderr.write(`standard output failed (${e.message}): no more log lines\n`);
  });
  process.stderr.on('error', () => {});
}

/** A JSON-lines logger for one gateway instance; `silent` keeps test output clean. */
export function createLogger(opts: { level: string; service: string; instanceId: string; silent?: boolean }): Logger {
  return winston.createLogger({
    level: opts.level,
    silent: opts.silent,
    defaultMeta: { service: opts.service, instance_id: opts.instanceId },
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}
