import { createHash, timingSafeEqual } from 'node:crypto';

/** Answers whether a presented key is one of the configured keys. */
export type KeyMatcher = (given: string) => boolean;

/**
 * A matcher for `keys` that compares in constant time: each key's SHA-256 digest against the
 * given one's, every key every time, so the time taken tells neither which key nor whether any
 * matched (digests also make keys of different lengths comparable).
 */
export function keyMatcher(keys: readonly string[]): KeyMatcher {
  const digests = keys.map(sha256);
  return (given) => {
    const digest = sha256(given);
    let matched = false;
    for (const d of digests) matched = timingSafeEqual(digest, d) || matched;
    return matched;
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
