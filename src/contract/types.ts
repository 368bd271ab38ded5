import type { z } from 'zod';
import type { AckErrorBody } from './errorCodes.js';
import type { ClientEventMap, clientEvents } from './clientEvents.js';
import type { ServerEventMap, serverEvents } from './serverEvents.js';

/** The contract's client events (section 3) and server events (section 4), as types. */
export type ClientEvents = typeof clientEvents;
export type ServerEvents = typeof serverEvents;
export type ClientEventName = keyof ClientEvents;
export type ServerEventName = keyof ServerEvents;

/** What every ack carries: `{ ok: true, ...data }` or `{ ok: false, error }`. */
export type AckResponse<T> = ({ ok: true } & T) | { ok: false; error: AckErrorBody };
export type Ack<T> = (response: AckResponse<T>) => void;

/** What a client sends with event `E` (before defaults and transforms). */
export type PayloadOf<E extends keyof C, C extends ClientEventMap = ClientEvents> = z.input<C[E]['payload']>;
/** What the server's handler of `E` receives, once validated. */
export type ParsedPayloadOf<E extends keyof C, C extends ClientEventMap = ClientEvents> = z.output<C[E]['payload']>;
/** The data of a successful ack of `E` (without `ok`). */
export type AckDataOf<E extends keyof C, C extends ClientEventMap = ClientEvents> = z.output<C[E]['ack']>;
/** The payload of server event `E`. */
export type ServerPayloadOf<E extends keyof S, S extends ServerEventMap = ServerEvents> = z.output<S[E]['payload']>;

/** Client → server events as Socket.IO's event map (the generics of `Server`, `Socket` and the client's socket). */
export type ClientToServerEventsOf<C extends ClientEventMap> = {
  [E in keyof C]: (payload: z.input<C[E]['payload']>, ack?: Ack<z.output<C[E]['ack']>>) => void;
};
/** Server → client events as Socket.IO's event map. */
export type ServerToClientEventsOf<S extends ServerEventMap> = {
  [E in keyof S]: (payload: z.output<S[E]['payload']>) => void;
};
export type ClientToServerEvents = ClientToServerEventsOf<ClientEvents>;
export type ServerToClientEvents = ServerToClientEventsOf<ServerEvents>;

/** The `error` event's payload (contract sections 1 and 2). */
export type ErrorEventPayload = ServerPayloadOf<'error'>;
