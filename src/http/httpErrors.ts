import type { ErrorRequestHandler, Response } from 'express';
import { errors, isGatewayError, type ErrorCode, type GatewayError } from '../errors/GatewayError.js';
import type { Logger } from '../observability/logger.js';

/** The codes of the gateway's HTTP error bodies: the contract's, plus UNAUTHORIZED for a missing key. */
export type HttpErrorCode = ErrorCode | 'UNAUTHORIZED';

/** The status each code is answered with. */
const HTTP_STATUS: Record<HttpErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  AUTH_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 504,
};

/** The one place the gateway writes an HTTP error body: `{ error: { code, message } }` (contract section 5). */
export function sendError(res: Response, code: HttpErrorCode, message: string): void {
  res.status(HTTP_STATUS[code]).json({ error: { code, message } });
}

/**
 * The last middleware of the gateway's express app: whatever a route threw or passed on becomes
 * an error body. GatewayErrors keep their code; body-parser failures keep 413, other 4xx become
 * VALIDATION_FAILED; anything else is INTERNAL, logged, its details kept from the caller.
 */
export function httpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const e = httpErrorOf(err);
    if (HTTP_STATUS[e.code] >= 500) logger.error('http request failed', { method: req.method, path: req.path, error: err });
    sendError(res, e.code, e.message);
  };
}

function httpErrorOf(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  const { status, message } = (err ?? {}) as { status?: unknown; message?: unknown };
  if (status === 413) return errors.payloadTooLarge('request body too large');
  // body-parser: malformed JSON, unsupported charset or encoding, aborted upload.
  if (typeof status === 'number' && status >= 400 && status < 500) return errors.validation(`malformed request body: ${String(message)}`);
  return errors.internal();
}
