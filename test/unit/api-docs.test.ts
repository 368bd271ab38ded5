import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface, type OperationInterface } from '@asyncapi/parser';
import { compileErrors, validate } from '@readme/openapi-parser';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { ERROR_CODES } from '../../src/errors/GatewayError.js';
import type { HandshakeCode } from '../../src/errors/HandshakeError.js';
import { probeRoutes } from '../../src/http/probes.js';
import { PUSH_EVENT_PATTERN, RESERVED_PUSH_EVENTS, pushApiRoutes } from '../../src/http/pushApi.js';
import type { ServerToClientEvents } from '../../src/socket/events.js';
import { allHandlers } from '../../src/socket/handlers/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const protocolPath = resolve(root, '../shared/PROTOCOL.md');
const config = loadConfig({ CHAT_SERVICE_URL: 'http://chat.internal:8080', JWT_SECRET: 'a-secret-of-16-chars-or-more' });

/** Every key of ServerToClientEvents; the type below fails to compile when one is missing. */
const SERVER_EVENTS = [
  'connected',
  'receive_message',
  'message_sent',
  'online_users',
  'user_connected',
  'user_disconnected',
  'user_typing',
  'user_stop_typing',
  'message_status_update',
  'message_read_receipt',
  'message_deleted',
  'server_shutdown',
  'error',
] as const satisfies readonly (keyof ServerToClientEvents)[];
type Unlisted<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
const serverEventsComplete: Unlisted<keyof ServerToClientEvents, (typeof SERVER_EVENTS)[number]> = true;

/** Every code a refused handshake carries; same compile-time completeness check. */
const HANDSHAKE_CODES = [
  'AUTH_MISSING',
  'AUTH_INVALID',
  'AUTH_EXPIRED',
  'ORIGIN_FORBIDDEN',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'SERVER_BUSY',
] as const satisfies readonly HandshakeCode[];
const handshakeCodesComplete: Unlisted<HandshakeCode, (typeof HANDSHAKE_CODES)[number]> = true;

/** The events the gateway registers a handler for. */
const clientEvents = allHandlers(config).map((h) => h.event);

/** Untyped access into the parsed YAML. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const readDoc = (name: string) => readFileSync(resolve(root, 'docs', name), 'utf8');
const sorted = (names: Iterable<string>) => [...names].sort();
const addressOf = (op: OperationInterface) => op.channels().all().map((c) => c.address() ?? '(no address)');

/** The backticked names in the first column of the table of `## {section}.` in PROTOCOL.md. */
function protocolTableEvents(markdown: string, section: number): string[] {
  const start = markdown.indexOf(`\n## ${section}.`);
  expect(start, `PROTOCOL.md has a section ${section}`).to.be.greaterThan(-1);
  const end = markdown.indexOf('\n## ', start + 1);
  const rows = markdown
    .slice(start, end === -1 ? undefined : end)
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2); // header and separator
  return rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
}

/** Method and path of every route an express router registers, mounted routers included. */
interface RouterLike {
  stack: { route?: { path: string; methods: Record<string, boolean> }; rawPath?: string; handle?: unknown }[];
}
function routesOf(router: RouterLike, prefix = ''): string[] {
  return router.stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${prefix}${layer.route!.path}`);
    const nested = layer.handle as RouterLike | undefined;
    if (Array.isArray(nested?.stack)) return routesOf(nested, prefix + (layer.rawPath === '/' ? '' : (layer.rawPath ?? '')));
    return [];
  });
}

describe('API documents', () => {
  describe('docs/asyncapi.yaml', () => {
    let document: AsyncAPIDocumentInterface;
    let raw: Json;

    before(async () => {
      const text = readDoc('asyncapi.yaml');
      raw = parseYaml(text) as Json;
      const result = await new Parser().parse(text);
      const problems = result.diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
      if (problems.length > 0) console.error(problems.map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`).join('\n'));
      expect(problems.map((d) => d.message)).to.deep.equal([]);
      expect(result.document, 'a parsed document').to.not.equal(undefined);
      document = result.document!;
    });

    it('is an AsyncAPI 3.0.0 document served over websocket and polling on /socket.io', () => {
      expect(document.version()).to.equal('3.0.0');
      const servers = document.servers().all();
      expect(servers.map((s) => s.protocol())).to.have.members(['http', 'ws']);
      for (const s of servers) {
        expect(s.pathname()).to.match(/^\/socket\.io\/?$/);
        expect(s.variables().get('port')?.defaultValue()).to.equal('3002');
      }
    });

    it('accepts the JWT from auth.token, an Authorization bearer header or a token query parameter', () => {
      const schemes = raw.components.securitySchemes as Json;
      const bearers = Object.values(schemes).filter((s) => s.type === 'http' && s.scheme === 'bearer');
      expect(bearers.map((s) => s.description).join(' ')).to.include('auth.token').and.include('Authorization: Bearer');
      expect(schemes.tokenQuery).to.include({ type: 'httpApiKey', in: 'query', name: 'token' });
      for (const s of document.servers().all()) expect(s.security()).to.have.length(3);
    });

    it('documents exactly the client events the gateway registers, as receive operations', () => {
      const received = document.operations().filterByReceive().flatMap(addressOf);
      expect(sorted(received)).to.deep.equal(sorted(clientEvents));
      expect(new Set(received).size, 'no event documented twice').to.equal(received.length);
    });

    it('models every client event ack as a reply that is either { ok: true, ... } or { ok: false, error }', () => {
      for (const op of document.operations().filterByReceive()) {
        const [event] = addressOf(op);
        const replies = op.reply()?.messages().all() ?? [];
        expect(replies, `${event} has a reply`).to.have.length(1);
        const variants = (replies[0].payload()?.json() as Json | undefined)?.oneOf as Json[] | undefined;
        expect(variants, `${event} ack is a oneOf`).to.be.an('array');
        const oks = variants!.map((v) => v.properties?.ok?.const);
        expect(oks, `${event} ack variants`).to.have.members([true, false]);
        const failure = variants!.find((v) => v.properties.ok.const === false)!;
        expect(failure.properties.error.properties.code.enum, `${event} failure codes`).to.deep.equal([...ERROR_CODES]);
      }
    });

    it('documents every server event of the typed event map, and connect_error, as send operations', () => {
      expect(serverEventsComplete).to.equal(true);
      const sent = document.operations().filterBySend().flatMap(addressOf);
      expect(sent).to.include.members([...SERVER_EVENTS, 'connect_error']);
      for (const event of [...SERVER_EVENTS, 'connect_error']) {
        const message = document.channels().all().find((c) => c.address() === event)?.messages().all()[0];
        expect(message?.name(), `${event} message`).to.equal(event);
        expect(message?.hasPayload(), `${event} payload`).to.equal(true);
      }
    });

    it('gives connect_error every handshake refusal code, with its err.message', () => {
      expect(handshakeCodesComplete).to.equal(true);
      const variants = raw.components.messages.ConnectError.payload.oneOf as Json[];
      const codes = variants.flatMap((v) => v.properties.data.properties.code.enum ?? [v.properties.data.properties.code.const]);
      expect(sorted(codes)).to.deep.equal(sorted(HANDSHAKE_CODES));
      const unauthorized = variants.find((v) => v.properties.message.const === 'unauthorized');
      expect(unauthorized?.properties.data.properties.code.enum).to.have.members(['AUTH_MISSING', 'AUTH_INVALID', 'AUTH_EXPIRED']);
    });

    it('states the shared schemas with the gateway limits and codes', () => {
      const s = raw.components.schemas as Json;
      expect(s.Id).to.include({ type: 'string', minLength: 1, maxLength: 128 });
      expect(s.UserIdList.maxItems).to.equal(1000);
      expect(s.ClientMsgId).to.include({ minLength: 1, maxLength: 64 });
      expect(s.MessageContent).to.include({ minLength: 1, maxLength: config.maxMessageLength });
      expect(s.MessageType.enum).to.deep.equal(config.messageTypes);
      expect(s.AckError.properties.code.$ref).to.equal('#/components/schemas/ErrorCode');
      expect(s.AckError.required).to.have.members(['code', 'message', 'retryable']);
      expect(s.AckError.properties).to.have.property('retry_after_ms');
      expect(s.ErrorCode.enum).to.deep.equal([...ERROR_CODES]);
      expect(s.ChatMessage.required).to.have.members(['message_id', 'sender_id', 'content', 'message_type', 'created_at']);
    });

    it('lists the same events as the tables of PROTOCOL.md sections 3 and 4', function () {
      if (!existsSync(protocolPath)) {
        console.warn(`api-docs: ${protocolPath} is missing; skipping the PROTOCOL.md cross-check`);
        this.skip();
      }
      const markdown = readFileSync(protocolPath, 'utf8');
      expect(sorted(protocolTableEvents(markdown, 4))).to.deep.equal(sorted(SERVER_EVENTS));
      expect(sorted(protocolTableEvents(markdown, 3))).to.deep.equal(sorted(clientEvents));
    });
  });

  describe('docs/openapi.yaml', () => {
    let doc: Json;

    before(async () => {
      doc = parseYaml(readDoc('openapi.yaml')) as Json;
      // validate() dereferences in place: hand it a copy, keep the $refs for the checks below.
      const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
      if (!result.valid) console.error(compileErrors(result));
      expect(result.valid, 'a valid OpenAPI document').to.equal(true);
    });

    it('is an OpenAPI 3.1 document', () => {
      expect(doc.openapi).to.match(/^3\.1\./);
    });

    it('documents every route of the probes and the push API', () => {
      const registered = [
        ...routesOf(probeRoutes({} as never) as unknown as RouterLike),
        ...routesOf(pushApiRoutes({ config, io: {} as never, presenceStore: {} as never, metrics: {} as never, logger: {} as never, forgetTokens: () => undefined, stats: async () => ({}) }) as unknown as RouterLike),
      ].map((r) => r.replace(/:(\w+)/g, '{$1}'));
      expect(sorted(registered)).to.deep.equal(sorted([
        'GET /health', 'GET /ready', 'GET /metrics',
        'POST /api/v1/push', 'POST /api/v1/broadcast', 'POST /api/v1/users/{user_id}/disconnect',
        'GET /api/v1/presence', 'GET /api/v1/stats',
      ]));
      for (const route of registered) {
        const [method, path] = route.split(' ');
        expect(doc.paths[path]?.[method.toLowerCase()], route).to.be.an('object');
      }
    });

    it('serves the probes without a key and /metrics as text/plain', () => {
      for (const path of ['/health', '/ready', '/metrics']) expect(doc.paths[path].get.security, path).to.deep.equal([]);
      expect(doc.paths['/metrics'].get.responses['200'].content).to.have.property('text/plain');
      expect(doc.paths['/ready'].get.responses).to.have.keys(['200', '503']);
    });

    it('guards the push API with X-API-Key and documents its error bodies', () => {
      expect(doc.components.securitySchemes.apiKey).to.include({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
      expect(doc.security).to.deep.equal([{ apiKey: [] }]);
      for (const [path, item] of Object.entries(doc.paths as Json).filter(([p]) => p.startsWith('/api/v1/'))) {
        for (const [method, op] of Object.entries(item as Json)) {
          const expected = method === 'post' ? ['400', '401', '403', '413'] : ['401', '403'];
          expect(op.responses, `${method} ${path}`).to.include.keys(expected);
        }
      }
      const error = doc.components.schemas.ErrorBody.properties.error;
      expect(error.required).to.have.members(['code', 'message']);
      expect(error.properties.code.enum).to.include.members(['VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'PAYLOAD_TOO_LARGE']);
    });

    it('states the pushed event name rule of the gateway', () => {
      const name = doc.components.schemas.EventName;
      expect(name.pattern).to.equal(PUSH_EVENT_PATTERN.source);
      expect(sorted(name.not.enum)).to.deep.equal(sorted(RESERVED_PUSH_EVENTS));
    });
  });
});
