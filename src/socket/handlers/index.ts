import type { GatewayConfig } from '../../config/config.js';
import type { EventHandler } from '../types.js';
import { messageHandlers } from './messages.js';
import { presenceHandlers } from './presence.js';
import { receiptHandlers } from './receipts.js';
import { roomHandlers } from './rooms.js';
import { sessionHandlers } from './session.js';
import { typingHandlers } from './typing.js';

/** Every client event of contract section 3, one entry each. */
export function allHandlers(config: GatewayConfig): EventHandler[] {
  return [
    ...messageHandlers(config),
    ...typingHandlers,
    ...receiptHandlers,
    ...roomHandlers,
    ...presenceHandlers,
    ...sessionHandlers,
  ] as EventHandler[];
}
