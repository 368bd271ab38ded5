import { expect } from 'chai';
import { collect, connectError, request, waitFor } from '../support/events.js';
import { capturedLogger, type CapturedLogger } from '../support/logs.js';
import { expectFailure, roundTrips, uniqueId, useStack } from '../support/scenarios.js';
import type { Stack } from '../support/stack.js';

/**
 * Hole 4: a SERVICE_TOKEN the backend refuses is the gateway's fault, not the user's. The
 * reference services here check a service token other than the gateway's, as a deployment with a
 * rotated or mistyped token would: every call is answered 401 `UNAUTHORIZED`.
 */

const GATEWAY_TOKEN = 'the-token-the-gateway-sends';
const SERVICES_TOKEN = 'the-token-the-services-expect';

/** A stack whose services refuse the gateway's service token, logging into `logs`. */
function useMismatchedStack(env: Record<string, string>): { stack: () => Stack; logs: CapturedLogger } {
  const logs = capturedLogger('error');
  const stack = useStack(
    { SERVICE_TOKEN: GATEWAY_TOKEN, RATE_LIMIT_ENABLED: 'false', ...env },
    { logger: logs.logger, authService: { serviceToken: SERVICES_TOKEN }, chatService: { serviceToken: SERVICES_TOKEN } },
  );
  return { stack, logs };
}

/** The error lines that say the service refused the gateway's credentials. */
function credentialErrors(logs: CapturedLogger, service: 'auth' | 'chat') {
  return logs.entries().filter((e) => e.level === 'error' && e.service === service && /refused the gateway's credentials/.test(String(e.message)));
}

describe('a SERVICE_TOKEN the chat-service refuses', () => {
  const { stack, logs } = useMismatchedStack({ CHAT_BATCH_ENDPOINTS: 'false', MEMBERSHIP_CACHE_TTL_MS: '60000' });

  it('fails send_message with the retryable SERVICE_UNAVAILABLE, and the receiver gets nothing', async () => {
    const [sender, receiver] = [uniqueId('sender'), uniqueId('receiver')];
    const senderSocket = await stack().connect(sender);
    const receiverSocket = await stack().connect(receiver);
    const received = collect(receiverSocket, 'receive_message');

    const ack = await request(senderSocket, 'send_message', { receiver_id: receiver, content: 'hello' });

    expectFailure(ack, 'SERVICE_UNAVAILABLE');
    expect(ack.error.retryable).to.equal(true);
    await roundTrips(receiverSocket);
    expect(received).to.deep.equal([]);
  });

  it('fails a room message and join_room with SERVICE_UNAVAILABLE, not FORBIDDEN', async () => {
    const [roomId, member] = [uniqueId('room'), uniqueId('member')];
    stack().chat.addRoom(roomId, [member]);
    const socket = await stack().connect(member);

    expectFailure(await request(socket, 'send_message', { room_id: roomId, content: 'hi all' }), 'SERVICE_UNAVAILABLE');
    expectFailure(await request(socket, 'join_room', { room_id: roomId }), 'SERVICE_UNAVAILABLE');
  });

  it('fails message_read and message_delivered with SERVICE_UNAVAILABLE, not FORBIDDEN', async () => {
    const socket = await stack().connect(uniqueId('reader'));

    expectFailure(await request(socket, 'message_read', { message_id: uniqueId('message') }), 'SERVICE_UNAVAILABLE');
    expectFailure(await request(socket, 'message_delivered', { message_id: uniqueId('message') }), 'SERVICE_UNAVAILABLE');
  });

  it('logs the refusal at error level once, not once per call', async () => {
    const socket = await stack().connect(uniqueId('sender'));
    for (let i = 0; i < 3; i++) expectFailure(await request(socket, 'send_message', { receiver_id: 'anyone', content: 'x' }), 'SERVICE_UNAVAILABLE');

    await waitFor(() => credentialErrors(logs, 'chat').length > 0, 1000, 'the error line');
    const lines = credentialErrors(logs, 'chat');
    expect(lines, 'error lines about the chat-service credentials').to.have.length(1);
    expect(lines[0]).to.include({ status: 401 });
    expect(logs.text(), 'the token never reaches the log').not.to.include(GATEWAY_TOKEN);
  });
});

describe('a SERVICE_TOKEN the auth-service refuses (AUTH_MODE=remote)', () => {
  const { stack, logs } = useMismatchedStack({ AUTH_MODE: 'remote', JWT_SECRET: '' });

  it('refuses the handshake with SERVICE_UNAVAILABLE, not AUTH_INVALID, and asks again next time', async () => {
    const token = stack().token(uniqueId('user'));
    const verifyCalls = () => stack().auth.requests.filter((r) => r.path === '/auth/verify').length;
    const before = verifyCalls();

    for (let attempt = 1; attempt <= 2; attempt++) {
      const err = await connectError(stack().client({ token }));
      expect({ message: err.message, data: err.data }, `attempt ${attempt}`).to.deep.equal({
        message: 'service_unavailable',
        data: { code: 'SERVICE_UNAVAILABLE' },
      });
    }

    expect(verifyCalls() - before, 'verifications asked').to.equal(2);
    await waitFor(() => credentialErrors(logs, 'auth').length > 0, 1000, 'the error line');
    expect(credentialErrors(logs, 'auth')).to.have.length(1);
  });
});

describe('a refusal of the service token is never cached', () => {
  const stack = useStack({ RATE_LIMIT_ENABLED: 'false', MEMBERSHIP_CACHE_TTL_MS: '60000' });

  it('asks about membership again once the chat-service takes the token again', async () => {
    const [roomId, member] = [uniqueId('room'), uniqueId('member')];
    stack().chat.addRoom(roomId, [member]);
    const socket = await stack().connect(member);
    // Exactly what the reference chat-service answers to a wrong service token, once.
    stack().chat.faults.add({
      status: 401,
      body: { error: { code: 'UNAUTHORIZED', message: 'missing or wrong service token' } },
      times: 1,
      match: { method: 'GET', path: /^\/rooms\// },
    });

    expectFailure(await request(socket, 'join_room', { room_id: roomId }), 'SERVICE_UNAVAILABLE');
    expect(await request(socket, 'join_room', { room_id: roomId })).to.deep.equal({ ok: true, room_id: roomId });
  });
});
