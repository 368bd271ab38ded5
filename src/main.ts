import { existsSync } from 'node:fs';
import { SERVICE_NAME, createGateway } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createLogger, silenceOnBrokenStdout } from './observability/logger.js';

/** Reads `.env` (docker --env-file format) when present; real environment variables win. */
function loadDotEnv(path = process.env.ENV_FILE ?? '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

async function main(): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, service: SERVICE_NAME, instanceId: config.instanceId });
  silenceOnBrokenStdout(logger);
  const gateway = createGateway(config, { logger });

  // One bad socket must not take every other connection down: log, count, keep serving.
  process.on('unhandledRejection', (reason) => {
    gateway.metrics.processErrors.inc({ kind: 'unhandled_rejection' });
    logger.error('unhandled rejection', { error: reason });
  });
  process.on('uncaughtException', (error) => {
    gateway.metrics.processErrors.inc({ kind: 'uncaught_exception' });
    logger.error('uncaught exception', { error: { message: error.message, stack: error.stack } });
  });

  const shutdown = (signal: string) => {
    logger.info('shutdown requested', { signal });
    gateway.stop().then(
      () => process.exit(0),
      (e: Error) => {
        logger.error('shutdown failed', { error: e });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await gateway.listen();
}

main().catch((e: Error) => {
  process.stderr.write(`failed to start: ${e.message}\n`);
  process.exit(1);
});
