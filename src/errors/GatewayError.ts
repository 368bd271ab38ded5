import type { AckErrorBody, ErrorCode } from '../contract/index.js';

/** The codes live in the contract; re-exported for the error call sites. */
export { ERROR_CODES, type AckErrorBody, type ErrorCode } from '../contract/index.js';

/** Codes a client may retry with the same request. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['SERVICE_UNAVAILABLE', 'TIMEOUT', 'RATE_LIMITED']);

const BRAND = Symbol.for('chat-gateway.GatewayError');

/** A failure the client is told about, carrying one of the contract's codes. */
export class GatewayError extends Error {
  readonly [BRAND] = true;
  override readonly name = 'GatewayError';
  /** The HTTP status a backend service answered with, when the failure is its answer. */
  upstreamStatus?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** For RATE_LIMITED: how long until the next attempt may pass. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** Type guard that survives duplicated module copies (brand, not instanceof). */
export function isGatewayError(e: unknown): e is GatewayError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** Factories, one per code, so call sites read as what happened. */
export const errors = {
  validation: (message: string) => new GatewayError('VALIDATION_FAILED', message),
  authExpired: (message = 'token expired') => new GatewayError('AUTH_EXPIRED', message),
  forbidden: (message = 'forbidden') => new GatewayError('FORBIDDEN', message),
  notFound: (message = 'not found') => new GatewayError('NOT_FOUND', message),
  rateLimited: (retryAfterMs: number) => new GatewayError('RATE_LIMITED', 'rate limit exceeded', retryAfterMs),
  payloadTooLarge: (message = 'payload too large') => new GatewayError('PAYLOAD_TOO_LARGE', message),
  unavailable: (message = 'service unavailable') => new GatewayError('SERVICE_UNAVAILABLE', message),
  timeout: (message = 'service timed out') => new GatewayError('TIMEOUT', message),
  internal: (message = 'internal error') => new GatewayError('INTERNAL', message),
};

/** The one place where any thrown value becomes the contract's error shape. */
export function toErrorBody(e: unknown): AckErrorBody {
  const err = isGatewayError(e) ? e : errors.internal();
  const body: AckErrorBody = { code: err.code, message: err.message, retryable: err.retryable };
  if (err.retryAfterMs !== undefined) body.retry_after_ms = err.retryAfterMs;
  return body;
}
