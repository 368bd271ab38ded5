import { expect } from 'chai';
import { redact } from '../../src/observability/logger.js';
import { waitFor } from '../support/events.js';
import { capturedLogger } from '../support/logs.js';

describe('logger: redact', () => {
  it('replaces credentials and message bodies at any depth', () => {
    const out = redact({
      user_id: 'alice',
      token: 'jwt-1',
      request: { headers: { Authorization: 'Bearer jwt-2', 'X-API-Key': 'key-1', accept: 'json' } },
      payload: { message: { content: 'dear diary', metadata: { mood: 'secret' }, message_type: 'text' } },
      items: [{ refresh_token: 'jwt-3', id: 1 }],
    });
    expect(out).to.deep.equal({
      user_id: 'alice',
      token: '[redacted]',
      request: { headers: { Authorization: '[redacted]', 'X-API-Key': '[redacted]', accept: 'json' } },
      payload: { message: { content: '[redacted]', metadata: '[redacted]', message_type: 'text' } },
      items: [{ refresh_token: '[redacted]', id: 1 }],
    });
  });

  it('strips CR and LF so a value cannot forge a log line', () => {
    expect(redact({ note: 'one\r\n{"level":"error","message":"forged"}', nested: { v: 'a\nb' } })).to.deep.equal({
      note: 'one {"level":"error","message":"forged"}',
      nested: { v: 'a b' },
    });
  });

  it('keeps only the name and a cleaned message of an Error', () => {
    expect(redact(new TypeError('bad\nthing'))).to.deep.equal({ name: 'TypeError', message: 'bad thing' });
  });

  it('leaves the input untouched', () => {
    const input = { token: 'jwt', inner: { content: 'hi' } };
    redact(input);
    expect(input).to.deep.equal({ token: 'jwt', inner: { content: 'hi' } });
  });
});

describe('logger: JSON lines', () => {
  it('writes one JSON object per line with level, message, service, instance and time', async () => {
    const { logger, lines } = capturedLogger();
    logger.info('socket connected', { user_id: 'alice' });
    await waitFor(() => lines().length === 1, 1000, 'one log line');
    const entry = JSON.parse(lines()[0]);
    expect(entry).to.include({ level: 'info', message: 'socket connected', user_id: 'alice', service: 'chat-gateway', instance_id: 'gw-test' });
    expect(new Date(entry.timestamp).toString()).to.not.equal('Invalid Date');
  });

  it('never prints tokens, authorization headers or message content', async () => {
    const { logger, text, lines } = capturedLogger();
    logger.info('handshake', { token: 'TOKEN-SECRET', headers: { authorization: 'Bearer AUTH-SECRET' } });
    logger.warn('send failed', { event: 'send_message', payload: { content: 'CONTENT-SECRET', receiver_id: 'bob' } });
    logger.error('refresh failed', { error: { message: 'nope', refresh_token: 'REFRESH-SECRET' } });
    await waitFor(() => lines().length === 3, 1000, 'three log lines');
    for (const secret of ['TOKEN-SECRET', 'AUTH-SECRET', 'CONTENT-SECRET', 'REFRESH-SECRET']) expect(text()).to.not.include(secret);
    const [handshake, send] = lines().map((l) => JSON.parse(l));
    expect(handshake).to.deep.include({ token: '[redacted]', headers: { authorization: '[redacted]' } });
    expect(send.payload).to.deep.equal({ content: '[redacted]', receiver_id: 'bob' });
  });

  it('keeps a message with CR/LF on one line', async () => {
    const { logger, lines } = capturedLogger();
    logger.info('user said\r\n{"level":"error","message":"forged"}', { reason: 'x\ny' });
    await waitFor(() => lines().length >= 1, 1000, 'a log line');
    await new Promise((r) => setImmediate(r));
    expect(lines()).to.have.length(1);
    expect(JSON.parse(lines()[0])).to.include({ level: 'info', reason: 'x y' });
  });

  it('drops entries below its level', async () => {
    const { logger, lines } = capturedLogger('warn');
    logger.debug('noise');
    logger.info('more noise');
    logger.warn('kept');
    await waitFor(() => lines().length >= 1, 1000, 'a log line');
    expect(lines().map((l) => JSON.parse(l).message)).to.deep.equal(['kept']);
  });
});
