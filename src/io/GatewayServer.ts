/**
 * The Socket.IO server and socket as the gateway types them. Below socket/, presence/, limits/ and
 * http/, which all emit through them; above the contract, whose events type them.
 */
import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract/index.js';

/** Between gateway instances (cluster mode). */
export interface InterServerEvents {
  ping: () => void;
  /** POST /api/v1/users/{id}/disconnect: forget the user's verified tokens (AUTH_MODE=remote). */
  forget_user_tokens: (userId: string) => void;
  /** Take these users' sockets out of the room here; answers which of the users had one in it. */
  remove_room_members: (roomId: string, userIds: string[], ack: (removed: string[]) => void) => void;
}

/** What the gateway keeps on each socket. */
export interface SocketData {
  userId: string;
  /** Milliseconds since epoch when the token expires, or null when it never does. */
  tokenExpiresAt: number | null;
  lastActivityAt: number;
  /** Refused events counted by the flood guard, since `strikesSince`. */
  strikes: number;
  strikesSince: number;
}

/** The Socket.IO server and sockets, typed by the contract's events. */
export type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type GatewaySocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
