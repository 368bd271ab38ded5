/** An accepted token. */
export interface VerifiedIdentity {
  userId: string;
  /** Milliseconds since epoch, or null for a token that never expires (remote mode only). */
  expiresAt: number | null;
}

/** Checks a bearer token; rejects with a HandshakeError (AUTH_INVALID / AUTH_EXPIRED / ...). */
export interface TokenVerifier {
  verify(token: string, requestId: string): Promise<VerifiedIdentity>;
}

/** Ids are non-empty strings of at most 128 characters (contract conventions). */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 128;
}
