/**
 * Services published under a path (behind an ingress or an API gateway): every call keeps the
 * path of `AUTH_SERVICE_URL` / `CHAT_SERVICE_URL` in front of the contract's paths.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startStack, type Stack } from '../support/stack.js';
import { nextEvent, request } from '../support/events.js';

/** A real HTTP server that serves `target` under `prefix` and records what it was asked. */
interface PrefixProxy {
  url: string;
  /** "METHOD /path" of every request, as received. */
  seen: string[];
  close(): Promise<void>;
}

async function startPrefixProxy(prefix: string, target: () => string): Promise<PrefixProxy> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (!req.url?.startsWith(`${prefix}/`)) {
      res.writeHead(404).end();
      return;
    }
    const upstream = http.request(`${target()}${req.url.slice(prefix.length)}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

for (const batched of [false, true]) {
  describe(`services under a path prefix (${batched ? 'batch endpoints' : 'single calls'})`, () => {
    let stack: Stack;
    let chatProxy: PrefixProxy;
    let authProxy: PrefixProxy;

    before(async () => {
      // The stack's services get their ports when it starts, so the proxies look them up per request.
      chatProxy = await startPrefixProxy('/chat-api', () => stack.chat.url);
      authProxy = await startPrefixProxy('/auth-api', () => stack.auth.url);
      stack = await startStack({
        AUTH_MODE: 'remote',
        AUTH_SERVICE_URL: `${authProxy.url}/auth-api`,
        // A trailing slash must not double the one the paths start with.
        CHAT_SERVICE_URL: `${chatProxy.url}/chat-api/`,
        CHAT_BATCH_ENDPOINTS: String(batched),
        RATE_LIMIT_ENABLED: 'false',
      });
    });
    after(async () => {
      await stack?.stop();
      await chatProxy?.close();
      await authProxy?.close();
    });

    it('verifies tokens, stores and relays a message, and records its receipt through the prefixed URLs', async () => {
      const alice = await stack.connect('prefix-alice');
      const bob = await stack.connect('prefix-bob');
      const received = nextEvent(bob, 'receive_message');
      const ack = await request(alice, 'send_message', { receiver_id: 'prefix-bob', content: 'hello', client_msg_id: 'prefix-1' });
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      const { message } = await received;
      expect(message.content).to.equal('hello');
      const receipt = await request(bob, 'message_delivered', { message_id: message.message_id });
      expect(receipt.ok, JSON.stringify(receipt)).to.equal(true);

      expect(authProxy.seen).to.include('POST /auth-api/auth/verify');
      const expected = batched
        ? ['POST /chat-api/messages/batch', 'POST /chat-api/receipts/batch']
        : ['POST /chat-api/messages', `POST /chat-api/messages/${encodeURIComponent(message.message_id)}/receipts`];
      expect(chatProxy.seen).to.include.members(expected);
      expect([...authProxy.seen, ...chatProxy.seen].filter((line) => !/ \/(auth|chat)-api\/[^/]/.test(line))).to.deep.equal([]);
    });
  });
}

describe('what every service call carries (contract section 6)', () => {
  const SERVICE_TOKEN = 'service-token-for-the-headers-test';
  let stack: Stack;

  before(async () => {
    stack = await startStack({ AUTH_MODE: 'remote', SERVICE_TOKEN, CHAT_BATCH_ENDPOINTS: 'false', RATE_LIMIT_ENABLED: 'false' });
  });
  after(() => stack?.stop());

  it('sends the service token, the request id, the acting user and the idempotency key, and the body as JSON', async () => {
    const alice = await stack.connect('headers-alice');
    const ack = await request(alice, 'send_message', { receiver_id: 'headers-bob', content: 'hello', client_msg_id: 'h1' });
    expect(ack.ok, JSON.stringify(ack)).to.equal(true);

    const [verify] = stack.auth.requests.filter((r) => r.method === 'POST' && r.path === '/auth/verify');
    expect(verify.headers).to.include({ authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'application/json' });
    expect(verify.headers['x-request-id']).to.be.a('string').and.not.equal('');
    const [post] = stack.chat.requests.filter((r) => r.method === 'POST' && r.path === '/messages');
    expect(post.headers).to.include({
      authorization: `Bearer ${SERVICE_TOKEN}`,
      'content-type': 'application/json',
      'x-user-id': 'headers-alice',
      'idempotency-key': 'headers-alice:h1',
    });
    expect(post.headers['x-request-id']).to.be.a('string').and.not.equal('');
    expect(post.body).to.include({ sender_id: 'headers-alice', receiver_id: 'headers-bob', content: 'hello', client_msg_id: 'h1' });
  });
});
