import type { ErrorCode } from '../contract/index.js';
import type { HandshakeCode } from '../errors/HandshakeError.js';

/**
 * What a {@link GatewayClientError} can say: the contract's ack codes (section 2), the handshake
 * codes of `connect_error` (section 1), and two of the client's own:
 * `DISCONNECTED` (the connection dropped before the ack came; retryable) and `CLOSED` (`close()` was called).
 */
export type GatewayClientErrorCode = ErrorCode | HandshakeCode | 'DISCONNECTED' | 'CLOSED';

/** The fields a failure carries, as in the contract's ack error body. */
export interface GatewayClientErrorBody {
  code: GatewayClientErrorCode;
  message: string;
  /** True when the same request may be sent again (SERVICE_UNAVAILABLE, TIMEOUT, RATE_LIMITED, SERVER_BUSY, DISCONNECTED). */
  retryable: boolean;
  /** For RATE_LIMITED and SERVER_BUSY: how long to wait before the next attempt. */
  retry_after_ms?: number;
}

const RETRYABLE: ReadonlySet<GatewayClientErrorCode> = new Set(['SERVICE_UNAVAILABLE', 'TIMEOUT', 'RATE_LIMITED', 'SERVER_BUSY', 'DISCONNECTED']);
const BRAND = Symbol.for('chat-gateway.GatewayClientError');

/** A refused or failed call of the typed client: `{ ok: false }` acks, ack timeouts, refused handshakes. */
export class GatewayClientError extends Error implements GatewayClientErrorBody {
  readonly [BRAND] = true;
  override readonly name = 'GatewayClientError';
  readonly code: GatewayClientErrorCode;
  readonly retryable: boolean;
  readonly retry_after_ms?: number;
  /** The event whose call failed, when there was one. */
  readonly event?: string;

  constructor(body: GatewayClientErrorBody & { event?: string }) {
    super(body.message);
    this.code = body.code;
    this.retryable = body.retryable;
    if (body.retry_after_ms !== undefined) this.retry_after_ms = body.retry_after_ms;
    if (body.event !== undefined) this.event = body.event;
  }

  /** An error of the client's own making, retryable as the code says. */
  static of(code: GatewayClientErrorCode, message: string, event?: string, retryAfterMs?: number): GatewayClientError {
    return new GatewayClientError({ code, message, retryable: RETRYABLE.has(code), retry_after_ms: retryAfterMs, event });
  }
}

/** Type guard that survives duplicated module copies (brand, not instanceof). */
export function isGatewayClientError(e: unknown): e is GatewayClientError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
