import { expect } from 'chai';
import { AuthClient, type StatusUpdate } from '../../src/clients/AuthClient.js';
import { ServiceClient } from '../../src/clients/ServiceClient.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { StatusReporter, type StatusReporterLimits } from '../../src/presence/StatusReporter.js';
import { startAuthService } from '../../src/reference/authService.js';
import { collect, request, waitFor } from '../support/events.js';
import { scrape } from '../support/metrics.js';
import { uniqueId } from '../support/scenarios.js';
import { startStack, TEST_SECRET, type AuthStandIn, type Stack } from '../support/stack.js';
import { accountedFor, STATUS_UPDATES, statusCalls, statusOutcomes } from '../support/statusUpdates.js';

/**
 * Contract section 6 (v2): status updates for the auth-service are coalesced per user, bounded in
 * flight and pending, and batched through PUT /users/status when the auth-service has it. Every
 * update reported ends in exactly one outcome of `gateway_status_updates_total`, so "all of them
 * are done" is a count, not a delay.
 */

const STACK_ENV = { RATE_LIMIT_ENABLED: 'false', MAX_CONNECTIONS_PER_IP_PER_MIN: '100000', AUTH_SERVICE_TIMEOUT_MS: '10000' };

async function untilAccountedFor(metricsText: () => Promise<string>, reported: number): Promise<void> {
  await waitFor(async () => accountedFor(statusOutcomes(await metricsText())) === reported, 10_000, `${reported} status updates accounted for`);
}

const AUTH_SERVICES = [
  { how: 'PUT /users/status', options: {} },
  { how: 'single calls, after PUT /users/status answered 404', options: { statusBatchEndpoint: false } },
];

for (const { how, options } of AUTH_SERVICES) {
  describe(`status updates through ${how}`, () => {
    let stack: Stack;
    afterEach(() => stack?.stop());

    it("coalesce a crowd connecting and disconnecting at once: fewer calls than transitions, and the auth-service ends with each user's latest status", async () => {
      stack = await startStack(STACK_ENV, { authService: options });
      const metricsText = () => scrape(stack);
      const users = Array.from({ length: 40 }, () => uniqueId('crowd'));
      const [leaving, staying] = [users.slice(0, 25), users.slice(25)];
      const watcher = await stack.connect(uniqueId('watcher'));
      await untilAccountedFor(metricsText, 1);
      expect((await request(watcher, 'presence_subscribe', { user_ids: users })).ok).to.equal(true);
      const connected = collect(watcher, 'user_connected');
      const disconnected = collect<{ user_id: string; last_seen: string }>(watcher, 'user_disconnected');
      const callsBefore = statusCalls(stack.auth).length;
      const recordedBefore = stack.auth.statusHistory.length;

      // Every call is held while the crowd comes and goes, so the transitions meet in the reporter.
      stack.auth.faults.add({ hang: true, match: STATUS_UPDATES });
      const sockets = await Promise.all(users.map((u) => stack.connect(u)));
      await waitFor(() => connected.length === users.length, 5000, 'user_connected for everyone');
      sockets.slice(0, leaving.length).forEach((s) => s.disconnect());
      await waitFor(() => disconnected.length === leaving.length, 5000, 'user_disconnected for those leaving');
      stack.auth.faults.release();

      const transitions = users.length + leaving.length;
      await untilAccountedFor(metricsText, 1 + transitions);
      const outcomes = statusOutcomes(await metricsText());
      expect({ failed: outcomes.failed, dropped: outcomes.dropped }).to.deep.equal({ failed: 0, dropped: 0 });
      expect(statusCalls(stack.auth).length - callsBefore, 'calls').to.be.below(transitions);
      expect(stack.auth.statusHistory.length - recordedBefore, 'updates recorded = sent').to.equal(outcomes.sent - 1);
      for (const user of staying) expect(stack.auth.statuses.get(user), user).to.include({ status: 'online' });
      const lastSeen = new Map(disconnected.map((d) => [d.user_id, d.last_seen]));
      for (const user of leaving) {
        // Never recorded online (its online was still pending when it left), or recorded offline as it left.
        const record = stack.auth.statuses.get(user);
        if (record) expect(record, user).to.include({ status: 'offline', last_seen: lastSeen.get(user) });
      }
    });

    it('sends the offline transitions of a drained gateway before it stops', async () => {
      stack = await startStack(STACK_ENV, { authService: options });
      const user = uniqueId('drained');
      await stack.connect(user);
      await waitFor(() => stack.auth.statuses.get(user)?.status === 'online', 5000, 'the online status');

      await stack.gateway.stop();

      expect(stack.auth.statuses.get(user)).to.include({ status: 'offline' });
    });
  });
}

describe('StatusReporter against the reference auth-service', () => {
  let auth: AuthStandIn;
  let metrics: Metrics;
  let reporter: StatusReporter;
  const logger = createLogger({ level: 'error', service: 'test', instanceId: 'test', silent: !process.env.TEST_LOGS });

  beforeEach(async () => {
    auth = await startAuthService({ jwtSecret: TEST_SECRET });
  });
  afterEach(async () => {
    await reporter?.stop(0);
    await auth.close();
  });

  function startReporter(limits: Partial<StatusReporterLimits> = {}): void {
    metrics = createMetrics();
    const service = new ServiceClient({ name: 'auth', baseUrl: auth.url, timeoutMs: 10_000, retries: 0, breaker: { failureThreshold: 5, halfOpenAfterMs: 1000 }, metrics, logger });
    reporter = new StatusReporter({ auth: new AuthClient(service, { mode: 'auto', logger }), metrics, logger, limits });
  }
  const outcomes = async () => statusOutcomes(await metrics.registry.metrics());
  const settle = (reported: number) => untilAccountedFor(() => metrics.registry.metrics(), reported);
  const online = (user_id: string): StatusUpdate => ({ user_id, status: 'online' });
  const offline = (user_id: string): StatusUpdate => ({ user_id, status: 'offline', last_seen: new Date().toISOString() });
  const history = () => auth.statusHistory.map((s) => `${s.user_id} ${s.status}`);

  it('drops the oldest pending updates beyond its bound, and counts them', async () => {
    startReporter({ maxPending: 3 });
    for (const user of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) reporter.report(online(user));
    await settle(6);

    expect(await outcomes()).to.deep.equal({ sent: 3, coalesced: 0, dropped: 3, failed: 0 });
    expect(history()).to.deep.equal(['u4 online', 'u5 online', 'u6 online']);
  });

  it('sends nothing for an online undone by an offline before it went, nor for an offline undone by an online', async () => {
    startReporter();
    reporter.report(online('brief'));
    reporter.report(offline('brief'));
    reporter.report(online('steady'));
    await settle(3);
    expect(history()).to.deep.equal(['steady online']);

    reporter.report(offline('steady'));
    reporter.report(online('steady'));
    reporter.report(online('marker'));
    await settle(6);
    expect(history()).to.deep.equal(['steady online', 'marker online']);
    expect(await outcomes()).to.deep.equal({ sent: 2, coalesced: 4, dropped: 0, failed: 0 });
  });

  it("keeps only a user's latest update, and sends a user's next one only after the previous call returned", async () => {
    startReporter();
    auth.faults.add({ hang: true, match: STATUS_UPDATES });
    reporter.report(online('ann'));
    await waitFor(() => auth.faults.holding === 1, 5000, "ann's online held");
    const last = offline('ann');
    reporter.report({ user_id: 'ann', status: 'away' });
    reporter.report(last);
    reporter.report(online('bob'));
    await waitFor(() => auth.faults.holding === 2, 5000, "bob's online held beside it");
    auth.faults.release();
    await settle(4);

    expect(history().filter((h) => h.startsWith('ann'))).to.deep.equal(['ann online', 'ann offline']);
    expect(auth.statuses.get('ann')).to.include({ status: 'offline', last_seen: last.last_seen });
    expect(await outcomes()).to.deep.equal({ sent: 3, coalesced: 1, dropped: 0, failed: 0 });
  });

  it('sends the updates of a batch refused with 404 again, one per call, and coalesces them with what came meanwhile', async () => {
    await auth.close();
    auth = await startAuthService({ jwtSecret: TEST_SECRET, statusBatchEndpoint: false });
    startReporter();
    auth.faults.add({ hang: true, match: STATUS_UPDATES });
    for (const user of ['v1', 'v2', 'v3']) reporter.report(online(user));
    await waitFor(() => auth.faults.holding === 1, 5000, 'the batch held');
    reporter.report(offline('v2'));
    auth.faults.release();
    await settle(4);

    expect(statusCalls(auth).map((c) => c.path)).to.deep.equal(['/users/status', '/users/v1/status', '/users/v3/status']);
    expect(history()).to.deep.equal(['v1 online', 'v3 online']);
    expect(await outcomes()).to.deep.equal({ sent: 2, coalesced: 2, dropped: 0, failed: 0 });
  });

  it('counts the updates of a failed call as failed, and goes on with the next ones', async () => {
    startReporter();
    auth.faults.add({ status: 500, times: 1, match: STATUS_UPDATES });
    reporter.report(online('first'));
    await settle(1);
    reporter.report(online('second'));
    await settle(2);

    expect(await outcomes()).to.deep.equal({ sent: 1, coalesced: 0, dropped: 0, failed: 1 });
    expect(history()).to.deep.equal(['second online']);
  });
});
