/** HS256 tokens for the load clients, signed with node:crypto (thousands per second, no library). */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export class TokenSigner {
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret));
  }

  /** A token for `userId` (claim `sub`) valid for `ttlS` seconds. */
  sign(userId: string, ttlS = 3 * 3600): string {
    const iat = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(JSON.stringify({ sub: userId, iat, exp: iat + ttlS })).toString('base64url');
    const signature = createHmac('sha256', this.key).update(`${HEADER}.${payload}`).digest('base64url');
    return `${HEADER}.${payload}.${signature}`;
  }
}
