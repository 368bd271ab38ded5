import type { StatusUpdate } from '../../src/clients/AuthClient.js';
import type { RecordedRequest } from '../../src/reference/serviceKit.js';
import type { StatusOutcome } from '../../src/presence/StatusReporter.js';
import { counter } from './metrics.js';

/** Matches status updates, single (`PUT /users/{id}/status`) or batched (`PUT /users/status`). */
export const STATUS_UPDATES = { method: 'PUT', path: /^\/users\/([^/]+\/)?status$/ };

/** Every status update the auth-service received (each attempt, each batch item), in order. */
export function statusUpdatesSent(auth: { requests: RecordedRequest[] }): StatusUpdate[] {
  return auth.requests.flatMap((r): StatusUpdate[] => {
    if (r.method !== 'PUT') return [];
    if (r.path === '/users/status') return (r.body as { updates: StatusUpdate[] }).updates;
    const single = /^\/users\/([^/]+)\/status$/.exec(r.path);
    return single ? [{ user_id: decodeURIComponent(single[1]), ...(r.body as Omit<StatusUpdate, 'user_id'>) }] : [];
  });
}

/** The status updates sent for one user, without the user id. */
export function statusUpdatesOf(auth: { requests: RecordedRequest[] }, userId: string): Array<Omit<StatusUpdate, 'user_id'>> {
  return statusUpdatesSent(auth)
    .filter((u) => u.user_id === userId)
    .map(({ user_id: _, ...rest }) => rest);
}

/** The calls that carried status updates. */
export function statusCalls(auth: { requests: RecordedRequest[] }): RecordedRequest[] {
  return auth.requests.filter((r) => r.method === STATUS_UPDATES.method && STATUS_UPDATES.path.test(r.path));
}

/** `gateway_status_updates_total` by outcome, from a metrics text. */
export function statusOutcomes(metricsText: string): Record<StatusOutcome, number> {
  const of = (outcome: StatusOutcome) => counter(metricsText, 'gateway_status_updates_total', { outcome });
  return { sent: of('sent'), coalesced: of('coalesced'), dropped: of('dropped'), failed: of('failed') };
}

/** Every update reported so far, whatever became of it. */
export function accountedFor(outcomes: Record<StatusOutcome, number>): number {
  return outcomes.sent + outcomes.coalesced + outcomes.dropped + outcomes.failed;
}
