/** Socket.IO event families that carry their own rate limit (`RATE_LIMIT_<FAMILY>`). */
export const RATE_LIMIT_FAMILIES = ['messages', 'typing', 'receipts', 'rooms', 'presence', 'auth'] as const;
export type RateLimitFamily = (typeof RATE_LIMIT_FAMILIES)[number];
