import express, { type ErrorRequestHandler, type Router } from 'express';
import helmet from 'helmet';

/** The express app on the gateway's port: security headers, then the given routers, then JSON errors. */
export function createHttpApp(routers: Router[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(helmet());
  for (const router of routers) app.use(router);
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no such endpoint' } });
  });
  app.use(jsonErrors);
  return app;
}

/** Body-parser failures and the rest become the contract's JSON error bodies. */
const jsonErrors: ErrorRequestHandler = (err, _req, res, _next) => {
  const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
  const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status < 500 ? 'VALIDATION_FAILED' : 'INTERNAL';
  res.status(status).json({ error: { code, message: status < 500 ? String(err.message ?? 'bad request') : 'internal error' } });
};
