/** Codes a refused handshake carries in `connect_error`'s `err.data.code` (contract section 1). */
export type HandshakeCode =
  | 'AUTH_MISSING'
  | 'AUTH_INVALID'
  | 'AUTH_EXPIRED'
  | 'ORIGIN_FORBIDDEN'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'SERVER_BUSY';

const MESSAGES: Record<HandshakeCode, string> = {
  AUTH_MISSING: 'unauthorized',
  AUTH_INVALID: 'unauthorized',
  AUTH_EXPIRED: 'unauthorized',
  ORIGIN_FORBIDDEN: 'forbidden',
  RATE_LIMITED: 'rate_limited',
  SERVICE_UNAVAILABLE: 'service_unavailable',
  SERVER_BUSY: 'server_busy',
};

/**
 * A refused handshake. Socket.IO sends `message` as `err.message` and `data` as `err.data`,
 * so both are exactly what the contract names.
 */
export class HandshakeError extends Error {
  readonly data: { code: HandshakeCode; retry_after_ms?: number };

  constructor(code: HandshakeCode, retryAfterMs?: number) {
    super(MESSAGES[code]);
    this.data = retryAfterMs === undefined ? { code } : { code, retry_after_ms: retryAfterMs };
  }

  get code(): HandshakeCode {
    return this.data.code;
  }
}
