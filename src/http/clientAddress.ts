/**
 * The address of the client behind `hops` reverse proxies (contract section 7, TRUST_PROXY_HOPS).
 * Each proxy appends the address it received the request from to `X-Forwarded-For`, so only the
 * last `hops` entries were written by proxies we trust; anything left of them came from the
 * client and may be forged. The client is therefore the entry `hops` places from the right; with
 * fewer entries than that, the leftmost (what Express's numeric `trust proxy` does too).
 * `hops` = 0 trusts no header: the socket's own peer address.
 */
export function clientAddress(peerAddress: string, forwardedFor: string | string[] | undefined, hops: number): string {
  if (hops <= 0 || forwardedFor === undefined) return peerAddress;
  const entries = [forwardedFor]
    .flat()
    .flatMap((header) => header.split(','))
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return peerAddress;
  return entries[Math.max(0, entries.length - hops)];
}
