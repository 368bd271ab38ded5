import type { TokenVerifier } from '../../auth/TokenVerifier.js';
import { errors } from '../../errors/GatewayError.js';
import { HandshakeError } from '../../errors/HandshakeError.js';
import type { HandlersOf } from '../types.js';

/** `refresh_token`: a newer valid token for the same user pushes the expiry back. */
export function sessionHandlers(verifier: TokenVerifier): HandlersOf<'refresh_token'> {
  return {
    async refresh_token(ctx, { token }) {
      const identity = await verifier.verify(token, ctx.requestId).catch((e: unknown) => {
        throw refusal(e);
      });
      if (identity.userId !== ctx.userId) throw errors.forbidden('token is for another user');
      ctx.socket.data.tokenExpiresAt = identity.expiresAt;
      return { expires_at: identity.expiresAt === null ? null : new Date(identity.expiresAt).toISOString() };
    },
  };
}

/** A refused token as an event error: expired stays AUTH_EXPIRED, a bad one is FORBIDDEN. */
function refusal(e: unknown) {
  if (!(e instanceof HandshakeError)) return errors.forbidden('invalid token');
  if (e.code === 'AUTH_EXPIRED') return errors.authExpired();
  if (e.code === 'SERVICE_UNAVAILABLE') return errors.unavailable('auth service unavailable');
  return errors.forbidden('invalid token');
}
