import { expect } from 'chai';
import type { ScenarioResult } from './scenario.js';
import { FIGURE, SCENARIOS, run } from './scenarios/faults.js';

/**
 * Reliability under faults at CI size: the figures that must hold whatever the timing. The
 * scenarios run once (in `before`); each test reads the figures of one scenario.
 */
describe('reliability: faults', function () {
  this.timeout(120_000);
  let results: ScenarioResult[] = [];

  before(async () => {
    results = await run('test');
    if (process.env.RELIABILITY_PRINT) console.log(JSON.stringify(results, null, 2));
  });

  /** The figures of scenario `name`, failing when it broke instead of measuring. */
  function figures(name: string): Record<string, number | string> {
    const result = results.find((r) => r.name === name);
    expect(result, `scenario "${name}" reported`).to.not.equal(undefined);
    expect(result!.figures[FIGURE.error], `${name}: ${result!.notes?.join('\n')}`).to.equal(undefined);
    return result!.figures;
  }

  /** No acked message lost, nothing stored twice, nothing relayed that was not stored. */
  function expectMessagesIntact(f: Record<string, number | string>): void {
    expect(f[FIGURE.attempted], FIGURE.attempted).to.be.a('number').above(0);
    expect(f[FIGURE.ackedOk], FIGURE.ackedOk).to.be.a('number').above(0);
    expect(f[FIGURE.ackedNotStored], FIGURE.ackedNotStored).to.equal(0);
    expect(f[FIGURE.duplicates], FIGURE.duplicates).to.equal(0);
    expect(f[FIGURE.sawUnstored], FIGURE.sawUnstored).to.equal(0);
    expect(f[FIGURE.ackedNotDelivered], FIGURE.ackedNotDelivered).to.equal(0);
    expect(f[FIGURE.nonRetryable], FIGURE.nonRetryable).to.equal(0);
  }

  /** The breaker opened during the fault, closed after it, and a burst then went through whole. */
  function expectRecovered(f: Record<string, number | string>): void {
    expect(f[FIGURE.breakerOpenMs], FIGURE.breakerOpenMs).to.be.a('number');
    expect(f[FIGURE.breakerClosedMs], FIGURE.breakerClosedMs).to.be.a('number');
    expect(f[FIGURE.burstSent], FIGURE.burstSent).to.be.a('number').above(0);
    expect(f[FIGURE.burstOk], FIGURE.burstOk).to.equal(f[FIGURE.burstSent]);
  }

  describe('a chat-service outage during a message stream', () => {
    it('loses no acked message, stores none twice and relays none it did not store', () => {
      expectMessagesIntact(figures(SCENARIOS.outage));
    });

    it('opens the breaker, closes it after recovery and then serves a burst in full', () => {
      expectRecovered(figures(SCENARIOS.outage));
    });
  });

  describe('a chat-service slower than CHAT_SERVICE_TIMEOUT_MS', () => {
    it('fails sends with retryable codes while slow, never acks ok what it did not store, and client retries store each message once', () => {
      const f = figures(SCENARIOS.slow);
      expectMessagesIntact(f);
      const retryable = (f[FIGURE.slowTimeout] as number) + (f[FIGURE.slowUnavailable] as number);
      expect(retryable, 'TIMEOUT or SERVICE_UNAVAILABLE acks while slow').to.be.above(0);
      expect(f[FIGURE.slowOther], FIGURE.slowOther).to.equal(0);
    });

    it('opens the breaker, closes it once the service is fast again and then serves a burst in full', () => {
      expectRecovered(figures(SCENARIOS.slow));
    });
  });

  describe('an auth-service that is down', () => {
    it('accepts every connection and accounts for every status update it could not deliver', () => {
      const f = figures(SCENARIOS.authDown);
      expect(f[FIGURE.connectionsTried]).to.be.a('number').above(0);
      expect(f[FIGURE.connectionsAccepted], FIGURE.connectionsAccepted).to.equal(f[FIGURE.connectionsTried]);
      expect(f[FIGURE.statusDropped], FIGURE.statusDropped).to.equal(2 * (f[FIGURE.connectionsAccepted] as number));
      expect(f[FIGURE.statusSent], FIGURE.statusSent).to.equal(0);
    });
  });

  describe('SIGTERM while sockets stream messages', () => {
    it('answers /ready 503 before the process exits with code 0', () => {
      const f = figures(SCENARIOS.shutdown);
      expect(f[FIGURE.readyBeforeExit], FIGURE.readyBeforeExit).to.equal('yes');
      expect(f[FIGURE.exitCode], FIGURE.exitCode).to.equal(0);
    });

    it('stores each acked message exactly once and relays none it did not store', () => {
      const f = figures(SCENARIOS.shutdown);
      expect(f[FIGURE.ackedOk], FIGURE.ackedOk).to.be.a('number').above(0);
      expect(f[FIGURE.ackedNotStored], FIGURE.ackedNotStored).to.equal(0);
      expect(f[FIGURE.duplicates], FIGURE.duplicates).to.equal(0);
      expect(f[FIGURE.sawUnstored], FIGURE.sawUnstored).to.equal(0);
      expect(f[FIGURE.nonRetryable], FIGURE.nonRetryable).to.equal(0);
    });
  });
});
