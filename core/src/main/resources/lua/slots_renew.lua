-- Extends a holder's slots; called when the lease they are bound to was renewed in PostgreSQL.
-- KEYS[1…n]  the counters' holder sets
-- ARGV[1]    the holder
-- ARGV[2]    how long the slots last from now, in ms
-- Reply:     the number of counters in which the holder still had a slot (a slot that expired is
--            not taken back here: that would bypass the limit check of slots_acquire.lua)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local held = 0
for i = 1, #KEYS do
  local expiry = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if expiry and tonumber(expiry) > now then
    redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
    redis.call('PEXPIRE', KEYS[i], ttl * 2)
    held = held + 1
  end
end
return held
