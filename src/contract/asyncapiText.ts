/** The parts of `docs/asyncapi.yaml` that are not events of the contract: prose, servers, security, refused handshakes and pushed events. */

export const ASYNCAPI_INFO = {
  title: 'chat-gateway Socket.IO API',
  version: '1.0.0',
  description: `The real-time API of the chat gateway: every Socket.IO event of the wire contract
(\`shared/PROTOCOL.md\`, sections 1–4). Generated from \`src/contract/\` (\`npm run docs:asyncapi\`):
do not edit by hand. The HTTP endpoints of the same port
are in \`docs/openapi.yaml\`.

**Perspective.** This document describes the gateway (the application). Events that a
client emits are \`receive\` operations of the gateway; events that the gateway emits to
clients are \`send\` operations. Every event travels on the default Socket.IO namespace \`/\`;
each channel's address is the Socket.IO event name.

**Acks.** Every client event accepts an optional Socket.IO acknowledgement callback, modelled
as the operation's \`reply\` (an ack packet on the same connection, not an event). It is
exactly one of \`{ "ok": true, ...data }\` or
\`{ "ok": false, "error": { "code", "message", "retryable", "retry_after_ms"? } }\`.
When the client gave no callback, a failure is emitted as the \`error\` event instead:
\`{ "code", "message", "event", "client_msg_id"?, "retry_after_ms"? }\`.

**Rules common to every client event.**
- Identity comes from the token only: a payload \`sender_id\` or \`user_id\` that differs from the
  authenticated user fails with \`FORBIDDEN\`; an equal one is ignored.
- The payload must be a JSON object, or may be left out (it then counts as \`{}\`); anything else
  fails with \`VALIDATION_FAILED\`. Fields not listed are ignored.
- Unknown events get \`VALIDATION_FAILED\` (\`"unknown event"\`).
- Frames over \`MAX_PAYLOAD_BYTES\` (default 65536) get \`PAYLOAD_TOO_LARGE\`; frames over twice
  that are dropped by the transport, which closes the socket.
- Rate limits per user and event family (\`RATE_LIMIT_<FAMILY>=POINTS/SECONDS\`, families
  \`messages\`, \`typing\`, \`receipts\`, \`rooms\`, \`presence\`, \`auth\`; each operation is tagged with
  its family) answer \`RATE_LIMITED\` with \`retry_after_ms\`. A socket that keeps sending refused
  events (\`RATE_LIMITED\`, \`VALIDATION_FAILED\`, \`PAYLOAD_TOO_LARGE\`: more than
  \`FLOOD_DISCONNECT_AFTER\`, default 50, in 10 s) gets \`error\` \`RATE_LIMITED\` and is disconnected.
- While the instance drains, every event fails with \`SERVICE_UNAVAILABLE\` (retryable).

**Session.** On success the handshake is answered by \`connected\` and the socket joins the room
\`user:{user_id}\`. A socket is disconnected when its token expires (after \`error\`
\`{ code: "AUTH_EXPIRED" }\`, unless \`refresh_token\` pushed the expiry back) and after
\`IDLE_TIMEOUT_MS\` without any event (pings do not count).

**Refused handshakes** never reach \`connected\`: the client gets Socket.IO's \`connect_error\`
(channel \`connect_error\` below).\n`,
  contact: {
    name: 'chat-gateway maintainers',
  },
  license: {
    name: 'UNLICENSED',
  },
};

export const SERVERS = {
  websocket: {
    host: '{host}:{port}',
    pathname: '/socket.io/',
    protocol: 'ws',
    protocolVersion: 'Engine.IO 4 / Socket.IO 5',
    title: 'Socket.IO over WebSocket',
    description: `\`ws://{host}:{port}/socket.io/?EIO=4&transport=websocket\` (\`wss\` behind TLS). Websocket-only
clients (\`transports: ['websocket']\`) need no sticky sessions in cluster mode.
The JWT is taken, in this order of preference, from \`auth.token\` of the Socket.IO CONNECT
packet, the \`Authorization: Bearer\` header, or the \`token\` query parameter: any one of the
security schemes listed suffices.\n`,
    variables: {
      host: {
        default: 'localhost',
        description: 'The gateway\'s host (`HOST`, default 0.0.0.0 to listen on every interface).',
      },
      port: {
        default: '3002',
        description: 'The gateway\'s port (`PORT`, default 3002); the HTTP endpoints share it.',
      },
    },
    security: [
      {
        $ref: '#/components/securitySchemes/socketAuthToken',
      },
      {
        $ref: '#/components/securitySchemes/bearerHeader',
      },
      {
        $ref: '#/components/securitySchemes/tokenQuery',
      },
    ],
  },
  polling: {
    host: '{host}:{port}',
    pathname: '/socket.io/',
    protocol: 'http',
    protocolVersion: 'Engine.IO 4 / Socket.IO 5',
    title: 'Socket.IO over HTTP long-polling',
    description: `\`GET\`/\`POST http://{host}:{port}/socket.io/?EIO=4&transport=polling[&sid=...]\`, packets
separated by \`\\x1e\`; upgrades to websocket when both sides can. Needs sticky sessions in
cluster mode. Same token locations as the websocket server.\n`,
    variables: {
      host: {
        default: 'localhost',
        description: 'The gateway\'s host.',
      },
      port: {
        default: '3002',
        description: 'The gateway\'s port (`PORT`, default 3002).',
      },
    },
    security: [
      {
        $ref: '#/components/securitySchemes/socketAuthToken',
      },
      {
        $ref: '#/components/securitySchemes/bearerHeader',
      },
      {
        $ref: '#/components/securitySchemes/tokenQuery',
      },
    ],
  },
};

export const SECURITY_SCHEMES = {
  socketAuthToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: `Preferred. The JWT in \`auth.token\` of the Socket.IO CONNECT packet
(\`io(url, { auth: { token } })\`, on the wire \`40{"token":"<jwt>"}\`). AsyncAPI has no
location for a Socket.IO auth payload; the credential is a bearer JWT.\n`,
  },
  bearerHeader: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: `\`Authorization: Bearer <jwt>\` on the handshake's HTTP request (used when \`auth.token\` is
absent; browsers cannot set it on a websocket).\n`,
  },
  tokenQuery: {
    type: 'httpApiKey',
    name: 'token',
    in: 'query',
    description: `The JWT as the \`token\` query parameter of the handshake (used when neither of the others is given).`,
  },
};

/** `connect_error`: not an event but the answer to a refused handshake (codes of `src/errors/HandshakeError.ts`). */
export const CONNECT_ERROR = {
  channels: {
    connect_error: {
      address: 'connect_error',
      title: 'connect_error (refused handshake)',
      description: `Not an emitted event: a Socket.IO CONNECT_ERROR packet (\`44{"message":...,"data":{...}}\`)
answering a refused handshake. socket.io-client raises it as the \`connect_error\` event with
\`err.message\` and \`err.data\`. While the instance drains, Engine.IO may refuse the transport
request itself (HTTP 403) before the Socket.IO layer is reached.\n`,
      messages: {
        connect_error: {
          $ref: '#/components/messages/ConnectError',
        },
      },
    },
  },
  operations: {
    sendConnectError: {
      action: 'send',
      channel: {
        $ref: '#/channels/connect_error',
      },
      summary: 'Refuses a handshake.',
      tags: [
        {
          name: 'session',
        },
      ],
      messages: [
        {
          $ref: '#/channels/connect_error/messages/connect_error',
        },
      ],
    },
  },
  messages: {
    ConnectError: {
      name: 'connect_error',
      title: 'connect_error',
      description: `\`err.message\` and \`err.data\` of a refused handshake. \`unauthorized\` goes with
\`AUTH_MISSING\` (no token), \`AUTH_INVALID\` (bad signature, algorithm, issuer, audience,
claims) and \`AUTH_EXPIRED\`; \`forbidden\` with \`ORIGIN_FORBIDDEN\` (\`Origin\` not in
\`CORS_ORIGINS\`); \`rate_limited\` with \`RATE_LIMITED\` (\`MAX_SOCKETS_PER_USER\`,
\`MAX_CONNECTIONS_PER_IP_PER_MIN\`; with \`retry_after_ms\`); \`service_unavailable\` with
\`SERVICE_UNAVAILABLE\` (draining, or the auth-service cannot answer in remote mode);
\`server_busy\` with \`SERVER_BUSY\` (admission control: the instance cannot serve the handshake
promptly, \`HANDSHAKE_MAX_PENDING\` / \`HANDSHAKE_MAX_LOOP_DELAY_MS\`; try again after
\`retry_after_ms\`, which is jittered and longer the heavier the overload).\n`,
      payload: {
        oneOf: [
          {
            type: 'object',
            required: ['message', 'data'],
            properties: {
              message: {
                const: 'unauthorized',
              },
              data: {
                type: 'object',
                required: ['code'],
                properties: {
                  code: {
                    type: 'string',
                    enum: ['AUTH_MISSING', 'AUTH_INVALID', 'AUTH_EXPIRED'],
                  },
                },
                additionalProperties: false,
              },
            },
          },
          {
            type: 'object',
            required: ['message', 'data'],
            properties: {
              message: {
                const: 'forbidden',
              },
              data: {
                type: 'object',
                required: ['code'],
                properties: {
                  code: {
                    const: 'ORIGIN_FORBIDDEN',
                  },
                },
                additionalProperties: false,
              },
            },
          },
          {
            type: 'object',
            required: ['message', 'data'],
            properties: {
              message: {
                const: 'rate_limited',
              },
              data: {
                type: 'object',
                required: ['code', 'retry_after_ms'],
                properties: {
                  code: {
                    const: 'RATE_LIMITED',
                  },
                  retry_after_ms: {
                    type: 'integer',
                    minimum: 0,
                  },
                },
                additionalProperties: false,
              },
            },
          },
          {
            type: 'object',
            required: ['message', 'data'],
            properties: {
              message: {
                const: 'service_unavailable',
              },
              data: {
                type: 'object',
                required: ['code'],
                properties: {
                  code: {
                    const: 'SERVICE_UNAVAILABLE',
                  },
                },
                additionalProperties: false,
              },
            },
          },
          {
            type: 'object',
            required: ['message', 'data'],
            properties: {
              message: {
                const: 'server_busy',
              },
              data: {
                type: 'object',
                required: ['code', 'retry_after_ms'],
                properties: {
                  code: {
                    const: 'SERVER_BUSY',
                  },
                  retry_after_ms: {
                    type: 'integer',
                    minimum: 0,
                  },
                },
                additionalProperties: false,
              },
            },
          },
        ],
      },
      examples: [
        {
          name: 'no token',
          payload: {
            message: 'unauthorized',
            data: {
              code: 'AUTH_MISSING',
            },
          },
        },
        {
          name: 'too many sockets',
          payload: {
            message: 'rate_limited',
            data: {
              code: 'RATE_LIMITED',
              retry_after_ms: 1000,
            },
          },
        },
        {
          name: 'overloaded instance',
          payload: {
            message: 'server_busy',
            data: {
              code: 'SERVER_BUSY',
              retry_after_ms: 1340,
            },
          },
        },
      ],
    },
  },
};

/** Events a backend pushes through the HTTP push API (contract section 5). */
export const PUSHED_EVENTS = {
  channels: {
    pushed: {
      address: '{event}',
      title: 'pushed events',
      description: `Any event a backend pushed through the HTTP push API (\`POST /api/v1/push\`,
\`POST /api/v1/broadcast\`, see \`docs/openapi.yaml\` and contract section 5), emitted with the
pushed \`data\` as its only argument (\`null\` when none was given).\n`,
      parameters: {
        event: {
          description: `The pushed event's name: matches \`^[a-z][a-z0-9_:.-]{0,63}$\` and is not reserved
(\`connect\`, \`connect_error\`, \`disconnect\`, \`disconnecting\`, \`connected\`, \`error\`,
\`server_shutdown\`, \`online_users\`, \`user_connected\`, \`user_disconnected\`,
\`message_sent\`). \`receive_message\` and \`message_deleted\` may be pushed.\n`,
          examples: ['receive_message', 'order.updated'],
        },
      },
      messages: {
        pushed: {
          $ref: '#/components/messages/PushedEvent',
        },
      },
    },
  },
  operations: {
    sendPushedEvent: {
      action: 'send',
      channel: {
        $ref: '#/channels/pushed',
      },
      summary: 'Relays an event pushed by a backend through the HTTP push API.',
      messages: [
        {
          $ref: '#/channels/pushed/messages/pushed',
        },
      ],
    },
  },
  messages: {
    PushedEvent: {
      name: 'pushed event',
      title: 'pushed event',
      description: 'The `data` of the push request, as given (`null` when none).',
      payload: {},
    },
  },
};
