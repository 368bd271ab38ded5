import { expect } from 'chai';
import sinon from 'sinon';
import type { Socket as ClientSocket } from 'socket.io-client';
import { FAULT_LOG_INTERVAL_MS } from '../../src/observability/FaultLog.js';
import { request } from '../support/events.js';
import { capturedLogger } from '../support/logs.js';
import { freePort } from '../support/redis.js';
import { expectFailure, expectIsoTime, health, uniqueId } from '../support/scenarios.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Issue 17, item 4: a dead chat-service must be visible. With CHAT_SERVICE_URL at a closed port,
 * every send fails with SERVICE_UNAVAILABLE; the operator sees why in the logs (rate-limited),
 * the breaker's transitions at warn, and the services' state in /health, while /ready stays 200.
 */

const THRESHOLD = 3;

describe('a chat-service that is not there (CHAT_SERVICE_URL at a closed port)', () => {
  const logs = capturedLogger('warn');
  let stack: Stack;
  let sender: ClientSocket;
  let clock: sinon.SinonFakeTimers | undefined;

  before(async () => {
    const closedPort = await freePort();
    stack = await startStack(
      {
        CHAT_SERVICE_URL: `http://127.0.0.1:${closedPort}`,
        CHAT_SERVICE_RETRIES: '0',
        CHAT_BATCH_ENDPOINTS: 'false',
        BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
        // Stays open for the whole file, however far the fake clock moves.
        BREAKER_HALF_OPEN_AFTER_MS: '3600000',
        RATE_LIMIT_ENABLED: 'false',
      },
      { logger: logs.logger },
    );
    sender = await stack.connect(uniqueId('sender'));
  });
  afterEach(() => clock?.restore());
  after(() => stack?.stop());

  const send = () => request(sender, 'send_message', { receiver_id: 'bob', content: 'anyone there?' });
  /** The lines that report failed calls to the chat-service. */
  const failureLines = () => logs.entries().filter((e) => e.service === 'chat' && /^chat service call failed/.test(String(e.message)));

  it('shows the chat-service healthy in /health before any call', async () => {
    const body: any = await health(stack);
    expect(body.services.chat).to.deep.equal({ breaker: 'closed' });
  });

  it('fails every send with SERVICE_UNAVAILABLE, logging the cause once per interval with the count', async () => {
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    const sends = THRESHOLD + 4;
    for (let i = 0; i < sends; i++) expectFailure(await send(), 'SERVICE_UNAVAILABLE');

    expect(failureLines(), 'lines for the failures within one interval').to.have.length(1);
    expect(failureLines()[0]).to.include({ level: 'error', service: 'chat', cause: 'ECONNREFUSED', operation: 'create_message', count: 1 });

    clock.tick(FAULT_LOG_INTERVAL_MS);
    expectFailure(await send(), 'SERVICE_UNAVAILABLE');
    const lines = failureLines();
    expect(lines, 'lines once the interval has passed').to.have.length(2);
    // The breaker opened after THRESHOLD refused connections: the calls since fail fast.
    expect(lines[1]).to.include({ level: 'error', service: 'chat', cause: 'circuit open', count: sends });
  });

  it('logged the breaker opening at warn, naming the chat-service', () => {
    const opened = logs.entries().filter((e) => e.service === 'chat' && e.state === 'open');
    expect(opened).to.have.length(1);
    expect(opened[0]).to.include({ level: 'warn', last_error: 'ECONNREFUSED' });
    expect(String(opened[0].message)).to.match(/^chat service circuit breaker open/);
  });

  it('shows the open breaker and the last error in /health, while /ready stays 200', async () => {
    const body: any = await health(stack);
    expect(body.status).to.equal('ok');
    expect(body.services.chat).to.include({ breaker: 'open', last_error: 'circuit open' });
    expectIsoTime(body.services.chat.last_error_at, 'last_error_at');
    expect(body.services.auth, 'the auth-service, which answers').to.deep.equal({ breaker: 'closed' });

    const ready = await fetch(`${stack.url}/ready`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ready' });
  });
});
