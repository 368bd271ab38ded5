import { PassThrough } from 'node:stream';
import winston from 'winston';
import { createLogger, type Logger } from '../../src/observability/logger.js';

/** A logger that writes what the gateway logs, as JSON lines. */
export interface CapturedLogger {
  logger: Logger;
  /** Everything written so far. */
  text(): string;
  /** The lines written so far. */
  lines(): string[];
  /** The lines parsed, as objects. */
  entries(): Array<Record<string, unknown>>;
}

/** A gateway logger whose only transport is an in-memory stream. */
export function capturedLogger(level = 'info'): CapturedLogger {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const logger = createLogger({ level, service: 'chat-gateway', instanceId: 'gw-test' });
  logger.clear().add(new winston.transports.Stream({ stream }));
  const text = () => chunks.join('');
  const lines = () => text().split('\n').filter(Boolean);
  return { logger, text, lines, entries: () => lines().map((l) => JSON.parse(l) as Record<string, unknown>) };
}
