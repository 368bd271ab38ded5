/** Socket.IO room names the gateway uses; one place so no string is typed twice. */
export const rooms = {
  user: (userId: string) => `user:${userId}`,
  chat: (roomId: string) => `room:${roomId}`,
  isChat: (name: string) => name.startsWith('room:'),
  presence: (userId: string) => `presence:${userId}`,
  isPresence: (name: string) => name.startsWith('presence:'),
};
