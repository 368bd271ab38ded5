import express, { type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../observability/logger.js';
import { httpErrorHandler, sendError } from './httpErrors.js';

/** The express app on the gateway's port: security headers, then the given routers, then JSON errors. */
export function createHttpApp(routers: Router[], logger: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(helmet());
  for (const router of routers) app.use(router);
  app.use((_req, res) => sendError(res, 'NOT_FOUND', 'no such endpoint'));
  app.use(httpErrorHandler(logger));
  return app;
}
