import jwt from 'jsonwebtoken';
import type { AuthClient } from '../clients/AuthClient.js';
import { isGatewayError } from '../errors/GatewayError.js';
import { HandshakeError } from '../errors/HandshakeError.js';
import { isValidId, type TokenVerifier, type VerifiedIdentity } from './TokenVerifier.js';

/** Tokens kept at most; the oldest entry goes first. */
const MAX_CACHED = 50_000;
/** How long a result is kept when neither the service nor the token names an expiry. */
const NO_EXPIRY_CACHE_MS = 60_000;

/**
 * AUTH_MODE=remote: asks the auth-service, caching each answer until the token's expiry.
 * Handshakes presenting a token already being verified (a client's tabs or devices reconnecting
 * together) wait for that one call instead of making their own.
 */
export class RemoteTokenVerifier implements TokenVerifier {
  private readonly cache = new Map<string, { identity: VerifiedIdentity; until: number }>();
  private readonly asking = new Map<string, Promise<VerifiedIdentity>>();

  constructor(
    private readonly auth: AuthClient,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string, requestId: string): Promise<VerifiedIdentity> {
    const hit = this.cache.get(token);
    if (hit && hit.until > this.now()) return hit.identity;
    if (hit) this.cache.delete(token);
    let answer = this.asking.get(token);
    if (!answer) {
      answer = this.ask(token, requestId).then((identity) => {
        this.remember(token, identity);
        return identity;
      });
      this.asking.set(token, answer);
      const forget = () => void this.asking.delete(token);
      answer.then(forget, forget);
    }
    return answer;
  }

  private async ask(token: string, requestId: string): Promise<VerifiedIdentity> {
    const claimedExp = expOf(token);
    if (claimedExp !== null && claimedExp <= this.now()) throw new HandshakeError('AUTH_EXPIRED');
    try {
      const res = await this.auth.verify(token, requestId);
      if (!isValidId(res?.user_id)) throw new HandshakeError('AUTH_INVALID');
      const serviceExp = res.expires_at ? Date.parse(res.expires_at) : NaN;
      return { userId: res.user_id, expiresAt: Number.isFinite(serviceExp) ? serviceExp : claimedExp };
    } catch (e) {
      if (e instanceof HandshakeError) throw e;
      const refused = isGatewayError(e) && ['FORBIDDEN', 'NOT_FOUND', 'VALIDATION_FAILED'].includes(e.code);
      throw new HandshakeError(refused ? 'AUTH_INVALID' : 'SERVICE_UNAVAILABLE');
    }
  }

  private remember(token: string, identity: VerifiedIdentity): void {
    const until = identity.expiresAt ?? this.now() + NO_EXPIRY_CACHE_MS;
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, { identity, until });
  }
}

/** The token's own `exp` in milliseconds, read without trusting it for anything but an early no. */
function expOf(token: string): number | null {
  try {
    const payload = jwt.decode(token);
    return payload && typeof payload === 'object' && typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    // jws throws on an unparsable payload when the header says typ JWT: the service decides.
    return null;
  }
}
