import type { AckDataOf, ClientEventMap, ClientEvents, ParsedPayloadOf } from '../contract/index.js';
import type { GatewaySocket } from '../io/GatewayServer.js';

/** One client event being handled. */
export interface EventContext {
  socket: GatewaySocket;
  /** From the token, never from a payload. */
  userId: string;
  requestId: string;
}

/**
 * The handler of client event `E`: gets the validated payload, does the work, and resolves with
 * the ack's data as the contract types it (a wrong ack does not compile), or throws a GatewayError.
 */
export type EventHandler<E extends keyof C, C extends ClientEventMap = ClientEvents> = (
  ctx: EventContext,
  payload: ParsedPayloadOf<E, C>,
) => Promise<AckDataOf<E, C>>;

/** Handlers of some of the events of `C`, as a handler family's factory returns them. */
export type HandlersOf<E extends keyof C, C extends ClientEventMap = ClientEvents> = { [K in E]: EventHandler<K, C> };

/** A handler for every event of `C`: what the dispatcher needs. */
export type EventHandlers<C extends ClientEventMap = ClientEvents> = HandlersOf<keyof C, C>;
