import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sendError } from './httpErrors.js';

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

/**
 * Middleware: 401 `UNAUTHORIZED` without the `header`, 403 `FORBIDDEN` unless its value is one
 * of `keys` (constant-time, see keyMatcher).
 */
export function requireKeyHeader(header: string, keys: readonly string[]): RequestHandler {
  const matches = keyMatcher(keys);
  return (req, res, next) => {
    const given = req.get(header);
    if (!given) return sendError(res, 'UNAUTHORIZED', `the ${header} header is required`);
    if (!matches(given)) return sendError(res, 'FORBIDDEN', `the ${header} is not valid`);
    next();
  };
}
