/**
 * Lua scripts of the Redis presence driver. Each runs atomically in Redis, which is what makes
 * first/last-socket transitions exactly-once across instances.
 *
 * Keys: users (HASH user → socket count), instance (HASH socket → user of one instance),
 * lastSeen (HASH user → ISO time), heartbeats (HASH instance → ms, Redis clock).
 */

/** Shared helper: one socket of `user` gone; records last seen and reports the offline transition. */
const DECREMENT = `
local function decrement(users, lastSeen, user, at)
  local n = redis.call('HINCRBY', users, user, -1)
  if n <= 0 then
    redis.call('HDEL', users, user)
    redis.call('HSET', lastSeen, user, at)
    return true
  end
  return false
end
`;

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS users, instance, lastSeen · ARGV socketId, userId, maxSockets (-1 = no cap)
 * → { admitted (0|1), first (0|1), count }. The cap is checked against the cluster-wide count
 * in the same step as the add, so parallel handshakes on any instances never exceed it.
 */
export const ADD_SOCKET = `
local count = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return { 1, 0, count } end
local max = tonumber(ARGV[3])
if max >= 0 and count >= max then return { 0, 0, count } end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local n = redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if n == 1 then redis.call('HDEL', KEYS[3], ARGV[2]) end
return { 1, n == 1 and 1 or 0, n }
`;

/** KEYS users, instance, lastSeen · ARGV socketId, userId, nowIso → 1 when it was the user's last socket */
export const REMOVE_SOCKET = `${DECREMENT}
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
return decrement(KEYS[1], KEYS[3], ARGV[2], ARGV[3]) and 1 or 0
`;

/** KEYS heartbeats · ARGV instanceId → 1 when the field was missing */
export const HEARTBEAT = `${NOW_MS}
return redis.call('HSET', KEYS[1], ARGV[1], now)
`;

/**
 * KEYS users, heartbeats, lastSeen · ARGV staleMs, instanceKeyPrefix, nowIso, selfId
 * → users who went offline. Stale instances are deleted in the same step, so only one
 * caller ever reports a given transition.
 */
export const REAP_STALE = `${DECREMENT}${NOW_MS}
local offline = {}
local beats = redis.call('HGETALL', KEYS[2])
for i = 1, #beats, 2 do
  local id = beats[i]
  if id ~= ARGV[4] and now - tonumber(beats[i + 1]) > tonumber(ARGV[1]) then
    local key = ARGV[2] .. id
    local sockets = redis.call('HGETALL', key)
    for j = 1, #sockets, 2 do
      if decrement(KEYS[1], KEYS[3], sockets[j + 1], ARGV[3]) then table.insert(offline, sockets[j + 1]) end
    end
    redis.call('DEL', key)
    redis.call('HDEL', KEYS[2], id)
  end
end
return offline
`;

/**
 * KEYS users, instance, lastSeen · ARGV nowIso, n, then n socketId, userId pairs of the live
 * sockets, then the ids of sockets being admitted (kept when present, never added)
 * → { online users, offline users } after making the instance's entries match.
 */
export const RESYNC = `${DECREMENT}
local live, admitting = {}, {}
local pairsEnd = 2 + 2 * tonumber(ARGV[2])
for i = 3, pairsEnd, 2 do live[ARGV[i]] = ARGV[i + 1] end
for i = pairsEnd + 1, #ARGV do admitting[ARGV[i]] = true end
local online, offline, stored = {}, {}, {}
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  local socket, user = entries[i], entries[i + 1]
  stored[socket] = true
  if live[socket] == nil and admitting[socket] == nil then
    redis.call('HDEL', KEYS[2], socket)
    if decrement(KEYS[1], KEYS[3], user, ARGV[1]) then table.insert(offline, user) end
  end
end
for socket, user in pairs(live) do
  if not stored[socket] then
    redis.call('HSET', KEYS[2], socket, user)
    if redis.call('HINCRBY', KEYS[1], user, 1) == 1 then
      redis.call('HDEL', KEYS[3], user)
      table.insert(online, user)
    end
  end
end
return { online, offline }
`;
