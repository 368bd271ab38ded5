import jwt from 'jsonwebtoken';
import type { AuthClient } from '../clients/AuthClient.js';
import { isGatewayError } from '../errors/GatewayError.js';
import { HandshakeError } from '../errors/HandshakeError.js';
import type { TokenVerifier, VerifiedIdentity } from './TokenVerifier.js';

/** Tokens kept at most; the oldest entry goes first. */
const MAX_CACHED = 50_000;

export interface RemoteTokenVerifierOptions {
  /** Longest an answer is kept (AUTH_CACHE_TTL_MS), however far the token's expiry; 0 = never kept. */
  cacheTtlMs: number;
}

/**
 * AUTH_MODE=remote: asks the auth-service, caching each answer until the token's expiry but at
 * most `cacheTtlMs`, so a token the service revokes stops working within that. Handshakes
 * presenting a token already being verified (a client's tabs or devices reconnecting together)
 * wait for that one call instead of making their own. Only acceptances are cached: a refusal or
 * a failure is asked again next time.
 */
export class RemoteTokenVerifier implements TokenVerifier {
  private readonly cache = new Map<string, { identity: VerifiedIdentity; until: number }>();
  /** The cached tokens of each user, so `forgetUser` finds them. */
  private readonly tokensOf = new Map<string, Set<string>>();
  private readonly asking = new Map<string, Promise<VerifiedIdentity>>();
  /** Bumped by `forgetUser`: an answer asked for before it is not cached. */
  private generation = 0;

  constructor(
    private readonly auth: AuthClient,
    private readonly opts: RemoteTokenVerifierOptions,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async verify(token: string, requestId: string): Promise<VerifiedIdentity> {
    const hit = this.cache.get(token);
    if (hit && hit.until > this.now()) return hit.identity;
    if (hit) this.forget(token, hit.identity.userId);
    let answer = this.asking.get(token);
    if (!answer) {
      const generation = this.generation;
      answer = this.ask(token, requestId).then((identity) => {
        if (generation === this.generation) this.remember(token, identity);
        return identity;
      });
      this.asking.set(token, answer);
      const done = () => void this.asking.delete(token);
      answer.then(done, done);
    }
    return answer;
  }

  forgetUser(userId: string): void {
    this.generation++;
    for (const token of this.tokensOf.get(userId) ?? []) this.cache.delete(token);
    this.tokensOf.delete(userId);
  }

  private async ask(token: string, requestId: string): Promise<VerifiedIdentity> {
    const claimedExp = expOf(token);
    if (claimedExp !== null && claimedExp <= this.now()) throw new HandshakeError('AUTH_EXPIRED');
    try {
      const res = await this.auth.verify(token, requestId);
      const serviceExp = res.expires_at ? Date.parse(res.expires_at) : NaN;
      return { userId: res.user_id, expiresAt: Number.isFinite(serviceExp) ? serviceExp : claimedExp };
    } catch (e) {
      // FORBIDDEN: the service refused the token (401); VALIDATION_FAILED: it could not read it.
      // Anything else, a refusal of the gateway's own credentials included, is not the user's doing.
      const refused = isGatewayError(e) && (e.code === 'FORBIDDEN' || e.code === 'VALIDATION_FAILED');
      throw new HandshakeError(refused ? 'AUTH_INVALID' : 'SERVICE_UNAVAILABLE');
    }
  }

  private remember(token: string, identity: VerifiedIdentity): void {
    if (this.opts.cacheTtlMs <= 0) return;
    const until = Math.min(identity.expiresAt ?? Infinity, this.now() + this.opts.cacheTtlMs);
    if (this.cache.size >= MAX_CACHED) {
      const [oldest, entry] = this.cache.entries().next().value!;
      this.forget(oldest, entry.identity.userId);
    }
    this.cache.set(token, { identity, until });
    const tokens = this.tokensOf.get(identity.userId);
    if (tokens) tokens.add(token);
    else this.tokensOf.set(identity.userId, new Set([token]));
  }

  private forget(token: string, userId: string): void {
    this.cache.delete(token);
    const tokens = this.tokensOf.get(userId);
    if (tokens?.delete(token) && tokens.size === 0) this.tokensOf.delete(userId);
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
