import type { Socket as ClientSocket } from 'socket.io-client';
import { handshakeOutcome, waitFor } from './events.js';
import { sample, scrape } from './metrics.js';
import type { Stack } from './stack.js';

const VERIFY = { method: 'POST', path: /^\/auth\/verify$/ };

/**
 * Opens `count` clients presenting `token`, spread over `gateways` in turn, whose handshakes all
 * wait on the token's verification (held at the first gateway's auth-service, which the others
 * share; AUTH_MODE=remote), runs `whileHeld`, then lets them go on at once: the handshakes
 * finish together, as those of a user's tabs reconnecting at the same moment do.
 * Resolves with the clients and how each handshake ended (see `handshakeOutcome`).
 */
export async function handshakesTogether(
  gateways: Stack[],
  token: string,
  count: number,
  whileHeld: (clients: ClientSocket[]) => Promise<void> = async () => undefined,
): Promise<{ clients: ClientSocket[]; outcomes: Array<Promise<string>> }> {
  const { auth } = gateways[0];
  const inProgress = async () => {
    const counts = await Promise.all(gateways.map(async (g) => sample(await scrape(g), 'gateway_handshakes_in_progress') ?? 0));
    return counts.reduce((sum, n) => sum + n, 0);
  };
  auth.faults.add({ hang: true, match: VERIFY });
  try {
    const clients = Array.from({ length: count }, (_, i) => gateways[i % gateways.length].client({ token }));
    const outcomes = clients.map((client) => handshakeOutcome(client));
    await waitFor(async () => (await inProgress()) === count, 3000, `${count} handshakes waiting on verification`);
    await whileHeld(clients);
    auth.faults.release();
    return { clients, outcomes };
  } finally {
    auth.faults.clear();
  }
}
