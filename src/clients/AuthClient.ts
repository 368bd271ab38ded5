import type { BatchEndpointsMode } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { BackendClient } from './BackendClient.js';
import { BatchEndpointSupport } from './BatchEndpointSupport.js';
import { pathOf, type ServiceClient } from './ServiceClient.js';

/** What the auth-service says of a valid token. */
export interface VerifiedToken {
  user_id: string;
  expires_at?: string;
}

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

  /** POST /auth/verify; rejects with a GatewayError (FORBIDDEN/NOT_FOUND/... for a 4xx). */
  verify(token: string, requestId: string): Promise<VerifiedToken> {
    return this.service.request({ method: 'POST', path: '/auth/verify', operation: 'verify', body: { token }, requestId });
  }

  /** True while `setStatuses` sends many updates in one call; else give it one at a time. */
  get statusBatchInUse(): boolean {
    return this.statusBatch.inUse;
  }

  /**
   * PUT /users/status with every update, or (without that endpoint) PUT /users/{id}/status for
   * each, one after the other. Answers each update with undefined when stored, else its error;
   * rejects when the batch call failed as a whole.
   */
  setStatuses(updates: StatusUpdate[], requestId: string): Promise<Array<Error | undefined>> {
    return this.statusBatch.run(
      async () => {
        await this.service.request({ method: 'PUT', path: '/users/status', operation: 'set_status_batch', body: { updates }, requestId });
        return updates.map(() => undefined);
      },
      async () => {
        const outcomes: Array<Error | undefined> = [];
        for (const update of updates) outcomes.push(await this.setStatus(update, requestId).then(() => undefined, (e: Error) => e));
        return outcomes;
      },
    );
  }

  /** PUT /users/{id}/status. */
  private async setStatus({ user_id, ...body }: StatusUpdate, requestId: string): Promise<void> {
    await this.service.request({ method: 'PUT', path: pathOf('users', user_id, 'status'), operation: 'set_status', body, requestId, userId: user_id });
  }
}
