/** An accepted token. */
export interface VerifiedIdentity {
  userId: string;
  /** Milliseconds since epoch, or null for a token that never expires (remote mode only). */
  expiresAt: number | null;
}

/** Checks a bearer token; rejects with a HandshakeError (AUTH_INVALID / AUTH_EXPIRED / ...). */
export interface TokenVerifier {
  verify(token: string, requestId: string): Promise<VerifiedIdentity>;
  /** Forgets what was verified of the user's tokens, so the next handshake asks again (revocation). */
  forgetUser(userId: string): void;
}

/**
 * A user id from a token: a non-empty string of at most 128 characters (contract conventions)
 * that can travel in the `X-User-Id` header unchanged: visible Latin-1 only, no control
 * characters, no surrounding blanks. (HTTP clients strip what a header cannot hold, which
 * would make two users one.)
 */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 128 && HEADER_SAFE.test(value);
}

const HEADER_SAFE = /^[\x21-\x7e\xa1-\xff](?:[\x20-\x7e\xa0-\xff]*[\x21-\x7e\xa1-\xff])?$/;
