import { errors } from '../errors/GatewayError.js';
import { rooms } from '../contract/index.js';
import type { GatewayServer } from '../io/GatewayServer.js';
import type { MembershipCache } from './MembershipCache.js';

/**
 * How long the other instances may take to answer. The adapter gives up after its own 5 s, but
 * never answers at all when it cannot publish (Redis down), hence a bound of ours above it.
 */
const ANSWERS_TIMEOUT_MS = 6000;

/**
 * `POST /api/v1/rooms/{room_id}/remove` (contract section 5): removed members leave the room on
 * every instance, each of their sockets that was in it gets `room_removed`, and every instance's
 * membership cache forgets them.
 *
 * One server-side emit with acknowledgements carries it: each instance does its own part
 * synchronously (forget, leave, emit) and answers with the users it found in the room, so when
 * `remove` resolves every instance has finished, and the count is exact without fetching the
 * room's sockets (possibly many) across the cluster.
 */
export class RoomMemberRemoval {
  /** `clustered`: other instances may exist (the Redis adapter); the in-memory one cannot ask them. */
  constructor(
    private readonly io: GatewayServer,
    private readonly membership: MembershipCache,
    private readonly clustered: boolean,
  ) {
    io.on('remove_room_members', (roomId, userIds, ack) => ack(this.removeHere(roomId, userIds)));
  }

  /**
   * Resolves with how many of `userIds` had a socket in the room on any instance. Rejects with
   * SERVICE_UNAVAILABLE when an instance did not answer (the others did their part): removing
   * again is harmless, so the caller retries.
   */
  async remove(roomId: string, userIds: string[]): Promise<number> {
    const here = this.removeHere(roomId, userIds);
    if (!this.clustered) return here.length;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer')), ANSWERS_TIMEOUT_MS);
    });
    try {
      const elsewhere = await Promise.race([this.io.serverSideEmitWithAck('remove_room_members', roomId, userIds), timedOut]);
      return new Set([...here, ...elsewhere.flat()]).size;
    } catch {
      throw errors.unavailable('not every gateway instance confirmed the removal');
    } finally {
      clearTimeout(timer);
    }
  }

  /** This instance's part; returns the users that had a socket in the room here. */
  private removeHere(roomId: string, userIds: string[]): string[] {
    this.membership.forget(roomId, userIds);
    const room = rooms.chat(roomId);
    const { sockets, adapter } = this.io.of('/');
    return userIds.filter((userId) => {
      let hadOne = false;
      for (const socketId of adapter.rooms.get(rooms.user(userId)) ?? []) {
        const socket = sockets.get(socketId);
        if (!socket?.rooms.has(room)) continue;
        hadOne = true;
        void socket.leave(room);
        socket.emit('room_removed', { room_id: roomId });
      }
      return hadOne;
    });
  }
}
