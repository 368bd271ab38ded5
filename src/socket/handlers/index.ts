import type { ChatClient } from '../../clients/ChatClient.js';
import type { SinkPublisher } from '../../clients/SinkPublisher.js';
import type { TokenVerifier } from '../../auth/TokenVerifier.js';
import type { PresenceStore } from '../../presence/PresenceStore.js';
import type { MembershipCache } from '../../rooms/MembershipCache.js';
import type { TypingTracker } from '../../typing/TypingTracker.js';
import type { GatewayServer } from '../../io/GatewayServer.js';
import type { EventHandlers } from '../types.js';
import { messageHandlers } from './messages.js';
import { presenceHandlers } from './presence.js';
import { receiptHandlers } from './receipts.js';
import { roomHandlers } from './rooms.js';
import { sessionHandlers } from './session.js';
import { typingHandlers } from './typing.js';

/** The parts the handler families use; each family takes only its own. */
export interface HandlerParts {
  io: GatewayServer;
  chat: ChatClient;
  membership: MembershipCache;
  typing: TypingTracker;
  sinks: SinkPublisher;
  presenceStore: PresenceStore;
  verifier: TokenVerifier;
}

/** A handler for every client event of the contract (a missing one does not compile). */
export function allHandlers(parts: HandlerParts): EventHandlers {
  return {
    ...messageHandlers(parts),
    ...typingHandlers(parts),
    ...receiptHandlers(parts),
    ...roomHandlers(parts),
    ...presenceHandlers(parts.presenceStore),
    ...sessionHandlers(parts.verifier),
  };
}
