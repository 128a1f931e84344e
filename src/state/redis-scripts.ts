/**
 * Lua scripts of the Redis shared state. A script runs atomically on the server, so each multi-key
 * operation is all or nothing across every replica. Time comes from the server (TIME), so replicas
 * with skewed clocks still agree. Numbers returned to the client are integers (Redis truncates Lua
 * numbers), so fractional values travel as strings. https://redis.io/docs/latest/develop/interact/programmability/eval-intro/
 */

/** GCRA over KEYS; ARGV = force (0/1), then windowMs, limit, cost per key. Same steps as gcra.ts. */
export const consumeScript = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local force = ARGV[1] == '1'
local allowed = true
local retry = 0
local base = {}
local nextTat = {}
for index, key in ipairs(KEYS) do
  local offset = 1 + (index - 1) * 3
  local window = tonumber(ARGV[offset + 1])
  local limit = tonumber(ARGV[offset + 2])
  local cost = tonumber(ARGV[offset + 3])
  local interval = window / limit
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local newTat = tat + cost * interval
  local ahead = newTat - now
  local fits
  if cost > 0 then fits = ahead <= window + 0.000001 else fits = ahead < window end
  if not fits then
    allowed = false
    local wait
    if cost > 0 then wait = ahead - window else wait = tat - now - window + interval end
    if wait > retry then retry = wait end
  end
  base[index] = tat
  nextTat[index] = newTat
end
local write = allowed or force
local reply = { allowed and 1 or 0, tostring(math.ceil(allowed and 0 or retry)) }
for index, key in ipairs(KEYS) do
  local offset = 1 + (index - 1) * 3
  local window = tonumber(ARGV[offset + 1])
  local limit = tonumber(ARGV[offset + 2])
  local interval = window / limit
  local tat = base[index]
  if write then
    tat = nextTat[index]
    redis.call('SET', key, string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
  end
  local ahead = tat - now
  local remaining = math.floor((window - ahead) / interval + 0.000000001)
  if remaining < 0 then remaining = 0 end
  if remaining > limit then remaining = limit end
  local reset = math.ceil(ahead)
  if reset < 0 then reset = 0 end
  reply[#reply + 1] = remaining
  reply[#reply + 1] = tostring(reset)
end
return reply
`;

/** Counters: adds ARGV[2 + 2i] to KEYS[i] unless one would pass its limit ARGV[3 + 2i]; ARGV[1] = ttl ms. */
export const reserveScript = `
local ttl = tonumber(ARGV[1])
local totals = {}
for index, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[index * 2])
  local limit = tonumber(ARGV[index * 2 + 1])
  local current = tonumber(redis.call('GET', key) or '0')
  totals[index] = current
  if current + amount > limit then
    local reply = { 0, index }
    for _, total in ipairs(totals) do reply[#reply + 1] = total end
    for later = index + 1, #KEYS do reply[#reply + 1] = tonumber(redis.call('GET', KEYS[later]) or '0') end
    return reply
  end
end
local reply = { 1, 0 }
for index, key in ipairs(KEYS) do
  reply[#reply + 1] = redis.call('INCRBY', key, ARGV[index * 2])
  redis.call('PEXPIRE', key, ttl)
end
return reply
`;

/** Counters: adds ARGV[1 + i] to KEYS[i]; ARGV[1] = ttl ms (0: keep the key's expiry). */
export const settleScript = `
local ttl = tonumber(ARGV[1])
local reply = {}
for index, key in ipairs(KEYS) do
  reply[index] = redis.call('INCRBY', key, ARGV[index + 1])
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
return reply
`;

/** Slots: releases one slot of each key, never below zero. */
export const releaseScript = `
for _, key in ipairs(KEYS) do
  local value = redis.call('DECR', key)
  if value <= 0 then redis.call('DEL', key) end
end
return 0
`;
