import { BackendClient } from './BackendClient.js';
import { pathOf } from './ServiceClient.js';

/** What the auth-service says of a valid token. */
export interface VerifiedToken {
  user_id: string;
  expires_at?: string;
}

/** The auth-service calls of contract section 6. */
export class AuthClient extends BackendClient {
  /** POST /auth/verify; rejects with a GatewayError (FORBIDDEN/NOT_FOUND/... for a 4xx). */
  verify(token: string, requestId: string): Promise<VerifiedToken> {
    return this.service.request({ method: 'POST', path: '/auth/verify', operation: 'verify', body: { token }, requestId });
  }

  /** PUT /users/{id}/status on a cluster-wide transition. */
  async setStatus(userId: string, status: 'online' | 'offline', requestId: string, lastSeen?: string): Promise<void> {
    await this.service.request({
      method: 'PUT',
      path: pathOf('users', userId, 'status'),
      operation: 'set_status',
      body: lastSeen ? { status, last_seen: lastSeen } : { status },
      requestId,
      userId,
    });
  }
}
