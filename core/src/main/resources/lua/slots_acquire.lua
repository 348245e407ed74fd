-- Takes one slot of every bounded counter named in KEYS for a holder, or none of them: the check and
-- the increment are one atomic step, so however many callers race, no counter ever has more live
-- holders than its limit.
-- KEYS[1…n]  the counters' holder sets (sorted sets: member = holder, score = expiry in ms of Redis time)
-- ARGV[1]    the holder: a task's claim, "<jobId>:<seq>:<leaseEpoch>"
-- ARGV[2]    how long the slots last without renewal, in ms (the claim's lease)
-- ARGV[3…]   each counter's limit, in KEYS order
-- Reply:     0 when the holder now has a slot in every counter (taking a slot it holds already only
--            extends it); otherwise the 1-based index of the first full counter, and nothing is taken.
-- Holders whose slots expired (their worker died or paused past its lease, so the lease is reclaimed)
-- are dropped before counting: a slot comes back when its lease does, never later, never leaking.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if not redis.call('ZSCORE', KEYS[i], ARGV[1])
      and redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[i + 2]) then
    return i
  end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ttl * 2)
end
return 0
