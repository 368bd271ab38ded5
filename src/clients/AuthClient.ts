import type { z } from 'zod';
import type { BatchEndpointsMode } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { verifiedTokenAnswer } from './answers.js';
import { BackendClient } from './BackendClient.js';
import { BatchEndpointSupport } from './BatchEndpointSupport.js';
import { pathOf, type ServiceClient } from './ServiceClient.js';

/** What the gateway reads of the auth-service's answer about a valid token. */
export type VerifiedToken = z.output<typeof verifiedTokenAnswer>;

/** The statuses of contract sections 6 and 8. */
export const USER_STATUSES = ['online', 'offline', 'away', 'busy', 'invisible'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** One user's status, as `PUT /users/status` carries it (contract section 6). */
export interface StatusUpdate {
  user_id: string;
  status: UserStatus;
  status_text?: string;
  last_seen?: string;
}

/** The auth-service calls of contract section 6. */
export class AuthClient extends BackendClient {
  private readonly statusBatch: BatchEndpointSupport;

  constructor(service: ServiceClient, batching: { mode: BatchEndpointsMode; logger: Logger }) {
    super(service);
    this.statusBatch = new BatchEndpointSupport({ ...batching, service: 'auth', path: '/users/status', variable: 'AUTH_BATCH_ENDPOINTS' });
  }

  /**
   * POST /auth/verify; rejects with a GatewayError: FORBIDDEN when the service refuses the
   * token (401), SERVICE_UNAVAILABLE when it refuses the gateway (see `userRefusals`).
   */
  verify(token: string, requestId: string): Promise<VerifiedToken> {
    return this.service.request({
      method: 'POST',
      path: '/auth/verify',
      operation: 'verify',
      body: { token },
      requestId,
      userRefusals: [401],
      answer: verifiedTokenAnswer,
    });
  }

  /** True while `setStatuses` may be given many updates at once; else give it one at a time. */
  get statusBatchInUse(): boolean {
    return this.statusBatch.inUse;
  }

  /**
   * One call: PUT /users/status with the updates, or PUT /users/{id}/status for a single one
   * while that endpoint is not in use. Resolves true when they were stored; false when the
   * auth-service turned out to have no PUT /users/status and nothing was stored (give them again,
   * one at a time); rejects when the call failed.
   */
  setStatuses(updates: StatusUpdate[], requestId: string): Promise<boolean> {
    return this.statusBatch.run(
      async () => {
        await this.service.request({ method: 'PUT', path: '/users/status', operation: 'set_status_batch', body: { updates }, requestId });
        return true;
      },
      async () => {
        if (updates.length !== 1) return false;
        await this.setStatus(updates[0], requestId);
        return true;
      },
    );
  }

  /** PUT /users/{id}/status. */
  private async setStatus({ user_id, ...body }: StatusUpdate, requestId: string): Promise<void> {
    await this.service.request({ method: 'PUT', path: pathOf('users', user_id, 'status'), operation: 'set_status', body, requestId, userId: user_id });
  }
}
