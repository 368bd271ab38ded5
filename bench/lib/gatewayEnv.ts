/**
 * The gateway's environment in the bench: the values of `.env.example`, read from the file at
 * every start so the bench measures what a new user runs and cannot drift from it; then the
 * wiring (where it listens, which services it calls); then the few limits loopback load cannot
 * live with (`LOOPBACK_LOAD_DEVIATIONS`); then the levers given with `--gateway-env`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/** What `.env.example` leaves to whoever runs the gateway, pointed at this run's processes. */
export interface GatewayWiring {
  port: number;
  instanceId: string;
  jwtSecret: string;
  /** The stand-in answering both the chat-service's and the auth-service's endpoints. */
  serviceUrl: string;
  redisUrl?: string;
}

/**
 * The only departures from the defaults, each forced by the load generator: every client
 * connects from 127.0.0.1, and a few hundred users each send hundreds of messages a second.
 */
export const LOOPBACK_LOAD_DEVIATIONS: Readonly<Record<string, string>> = {
  // One address for 15,000 clients.
  MAX_CONNECTIONS_PER_IP_PER_MIN: '100000000',
  // Load users reconnect and may open a socket before the old one is counted out.
  MAX_SOCKETS_PER_USER: '1000000',
  // A load user sends far more than a person: allowances raised, the limiter still runs.
  RATE_LIMIT_MESSAGES: '1000000/1',
  RATE_LIMIT_TYPING: '1000000/1',
  RATE_LIMIT_RECEIPTS: '1000000/1',
  RATE_LIMIT_ROOMS: '1000000/1',
  RATE_LIMIT_PRESENCE: '1000000/1',
  // Receivers and held sockets send nothing for as long as a scenario lasts.
  IDLE_TIMEOUT_MS: String(24 * 3600 * 1000),
};

/** Every `KEY=value` line of the repository's `.env.example` (comments skipped). */
export function envExampleDefaults(root: string): Record<string, string> {
  const parsed = parseEnv(readFileSync(join(root, '.env.example'), 'utf8'));
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The wiring as environment variables. */
function wiringEnv(w: GatewayWiring): Record<string, string> {
  return {
    PORT: String(w.port),
    HOST: '127.0.0.1',
    INSTANCE_ID: w.instanceId,
    JWT_SECRET: w.jwtSecret,
    CHAT_SERVICE_URL: w.serviceUrl,
    AUTH_SERVICE_URL: w.serviceUrl,
    ...(w.redisUrl ? { REDIS_URL: w.redisUrl } : {}),
  };
}

/** The gateway's whole configuration: defaults, wiring, loopback deviations, levers, in that order. */
export function gatewayEnv(root: string, wiring: GatewayWiring, levers: Record<string, string>): Record<string, string> {
  return { ...envExampleDefaults(root), ...wiringEnv(wiring), ...LOOPBACK_LOAD_DEVIATIONS, ...levers };
}

/** One line for a report: what the gateway ran with beyond `.env.example`. */
export function describeGatewayConfig(levers: Record<string, string>): string {
  const list = (env: Record<string, string>) => Object.entries(env).map(([k, v]) => `\`${k}=${v}\``).join(', ');
  const wired = 'PORT, HOST=127.0.0.1, INSTANCE_ID, JWT_SECRET, and CHAT_SERVICE_URL and AUTH_SERVICE_URL at the stand-in';
  return (
    `\`.env.example\`'s values (read from the file), wired here (${wired}); ` +
    `the only deviations, forced by loopback load: ${list(LOOPBACK_LOAD_DEVIATIONS)}` +
    (Object.keys(levers).length ? `; levers of this run (\`--gateway-env\`): ${list(levers)}` : '')
  );
}
